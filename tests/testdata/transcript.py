# Printing helpers of the Python client transcripts (django_steps.py,
# sqlalchemy_steps.py): one line per step, an error as its class and code.
import json


def show(label, value):
    print(label, json.dumps(value, default=str, sort_keys=True))


def step(label, fn):
    try:
        show(label, fn())
    except Exception as e:  # the error's class and code, as an app sees them
        orig = getattr(e, 'orig', None) or e  # SQLAlchemy wraps the driver's
        code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
        show(label, {'error': type(e).__name__, 'code': code})
