"""UTKFace's labels as FaceShift's domains: training/domains.json, the one file the recipe
(data.py, tasks.py, export_onnx.py) and the evaluation (src/eval/domains.ts) read. A domain's code
is its index in its attribute's labels (gender 0 male, 1 female; race 0 white, 1 black, 2 asian,
3 indian, 4 other)."""
import json
import os

with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'domains.json')) as _f:
    DOMAIN_FILE = json.load(_f)

LABELS_OF = {attr: list(names) for attr, names in DOMAIN_FILE['labels'].items()}
# the domains of each attribute, in the condition's order
GROUPS = {attr: list(names) for attr, names in DOMAIN_FILE['domains'].items()}
CODE = {d: LABELS_OF[attr].index(d) for attr, names in GROUPS.items() for d in names}
ATTRIBUTE = {d: attr for attr, names in GROUPS.items() for d in names}
ADULT_AGE = DOMAIN_FILE['adultAge']
