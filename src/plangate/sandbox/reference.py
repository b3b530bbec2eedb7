"""docs/sandbox-parameters.md, generated from the routes' declarations:
`python -m plangate.sandbox.reference > docs/sandbox-parameters.md` (a test checks it)."""

from __future__ import annotations

from .resources import ROUTERS
from .strict import ALWAYS, NOT_IMPLEMENTED

_INTRO = f"""# Sandbox parameters

Generated from the sandbox's route declarations by `python -m plangate.sandbox.reference`;
do not edit by hand.

For each operation: the parameters the sandbox implements (dotted paths, list indices left
out; a path covers everything under it) and the top-level parameters Stripe accepts that it
refuses with 400 `{NOT_IMPLEMENTED}`. A field under a partly implemented parameter (for
example `invoice_settings[footer]` when only `invoice_settings.default_payment_method` is
listed) is refused the same way. A parameter Stripe does not know at all is refused with
Stripe's 400 `parameter_unknown`. `{', '.join(sorted(ALWAYS))}` is implemented everywhere Stripe
accepts it, and `include[]=total_count` on every list.

| Operation | Stripe's parameters | Implemented | Refused (`{NOT_IMPLEMENTED}`) |
|---|---|---|---|
"""


def parameters_table() -> str:
    rows = []
    for router in ROUTERS:
        for route in router.routes:
            op = route.operation
            fields = op.shape().fields or {}
            implemented = sorted(op.implements)
            refused = sorted(
                name for name in fields
                if name not in ALWAYS
                and not any(p == name or p.startswith(name + ".") for p in op.implements)
            )
            rows.append((route.path, route.method, op.params_class or "(none)",
                         ", ".join(f"`{p}`" for p in implemented) or "-",
                         ", ".join(f"`{p}`" for p in refused) or "-"))
    rows.sort()
    lines = [f"| `{method} {path}` | `{cls}` | {impl} | {refused} |"
             for path, method, cls, impl, refused in rows]
    return _INTRO + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(parameters_table(), end="")
