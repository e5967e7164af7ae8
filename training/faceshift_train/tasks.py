"""The six directions as tasks of one conditional generator.

The condition is five numbers, [male, female, white, black, asian]: a one-hot target inside ONE
attribute group and zeros in the other, so a gender change says nothing about race and the other
way round (the attribute it does not name is left to the cycle and identity losses to keep).
black2white and asian2white share the condition "to white".
"""
from .domains import CODE, GROUPS  # noqa: F401 (training/domains.json; CODE: UTKFace label codes)

LABELS = [d for g in GROUPS.values() for d in g]  # condition layout
N_COND = len(LABELS)
DIRECTIONS = {
    'male2female': ('gender', 'male', 'female'),
    'female2male': ('gender', 'female', 'male'),
    'white2black': ('race', 'white', 'black'),
    'black2white': ('race', 'black', 'white'),
    'white2asian': ('race', 'white', 'asian'),
    'asian2white': ('race', 'asian', 'white'),
}


def condition(domain):
    """The condition vector that asks for `domain` (and nothing of the other group)."""
    return [1.0 if d == domain else 0.0 for d in LABELS]


def source_filter(direction):
    group, src, _ = DIRECTIONS[direction]
    key, code = group, CODE[src]
    return lambda it: it[key] == code


def own_domain(direction, item):
    """The domain an item has in the direction's group (its reconstruction target)."""
    group = DIRECTIONS[direction][0]
    return next(d for d in GROUPS[group] if CODE[d] == item[group])
