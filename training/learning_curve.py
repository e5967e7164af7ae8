#!/usr/bin/python3
"""The learning curve of each direction: composite flip rate and identity against images seen.

  /usr/bin/python3 training/learning_curve.py --add out/eval-composite-v3.json --models out/models-v3
  /usr/bin/python3 training/learning_curve.py            # re-plot

Each point comes from scripts/eval-composite.ts (the composited photo judged, the validation
split) for one model, with the images its training had seen (its manifest entry). Points are kept
in docs/training/learning-curve.json across sessions, and plotted to docs/training/learning-curve.png,
so a later session can tell whether to continue or change course.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.tasks import DIRECTIONS  # noqa: E402
DATA = os.path.join(ROOT, 'docs', 'training', 'learning-curve.json')
PLOT = os.path.join(ROOT, 'docs', 'training', 'learning-curve.png')


def add(eval_file, models_dir):
    with open(os.path.join(models_dir, 'manifest.json')) as f:
        seen = {m['id']: m['training']['images_seen'] for m in json.load(f)['models'] if m['task'] == 'transform'}
    with open(eval_file) as f:
        report = json.load(f)
    points = json.load(open(DATA)) if os.path.exists(DATA) else []
    for r in report['results']:
        if r['paste'] != 'detail' or r['model'] not in seen:
            continue
        p = dict(direction=r['direction'], model=r['model'], images_seen=seen[r['model']], scale=r['scale'], n=r['n'],
                 flip=r['flip']['rate'], flip_ci95=r['flip']['ci95'], no_op=r['flipNoOp']['rate'],
                 real_target=r['realTarget']['rate'], identity_median=r['identityMedian'], date=report['date'])
        points = [q for q in points if not (q['model'] == p['model'] and q['scale'] == p['scale'])] + [p]
    os.makedirs(os.path.dirname(DATA), exist_ok=True)
    with open(DATA, 'w') as f:
        json.dump(sorted(points, key=lambda q: (q['direction'], q['scale'], q['images_seen'])), f, indent=1)
        f.write('\n')


def plot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    points = json.load(open(DATA))
    dirs = sorted({p['direction'] for p in points})
    fig, axes = plt.subplots(2, len(dirs), figsize=(3.2 * len(dirs), 6), squeeze=False)
    for k, d in enumerate(dirs):
        for scale, style in ((1, 'o-'), (3, 's--')):
            ps = sorted((p for p in points if p['direction'] == d and p['scale'] == scale), key=lambda p: p['images_seen'])
            if not ps:
                continue
            x = [p['images_seen'] / 1000 for p in ps]
            axes[0][k].plot(x, [100 * p['flip'] for p in ps], style, label=f'x{scale}')
            # the target: 85 % for gender (both judges agree); for race 0.9 x the judge's recall on real target faces,
            # taken from the point measured on the most photos (the most precise ceiling)
            gender = DIRECTIONS[d][0] == 'gender'
            axes[0][k].axhline(85 if gender else 100 * 0.9 * max(ps, key=lambda p: (p['n'], p['date']))['real_target'],
                               color='grey', lw=0.8, ls=':')
            axes[1][k].plot(x, [p['identity_median'] for p in ps], style, label=f'x{scale}')
        axes[0][k].set_title(d, fontsize=9)
        axes[0][k].set_ylim(0, 100)
        axes[1][k].set_ylim(0.6, 1.0)
        axes[1][k].axhline(0.69, color='grey', lw=0.8, ls=':')
        axes[1][k].set_xlabel('images seen (thousands)', fontsize=8)
    axes[0][0].set_ylabel('composite flip % (dotted: target; race 0.9 x real)', fontsize=8)
    axes[1][0].set_ylabel('identity cosine, median (dotted: 0.69)', fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=80)
    print(f'wrote {PLOT}')


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--add', help='an eval-composite JSON report')
    p.add_argument('--models', help='the models folder it judged (for images seen)')
    a = p.parse_args()
    if a.add:
        add(a.add, a.models)
    plot()
