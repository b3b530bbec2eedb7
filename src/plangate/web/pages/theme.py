"""The hosted pages' branding from settings: a stylesheet of CSS custom properties (the CSP
allows no inline style), and the page policy that lets the logo and Checkout through."""

from __future__ import annotations

from urllib.parse import urlsplit

from plangate.settings import Settings
from plangate.web.security import CONTENT_SECURITY_POLICY

# Where a checkout form's redirect may lead: Stripe's hosted Checkout. Browsers apply
# form-action to the redirect that answers a form, not only to the form's own action.
STRIPE_CHECKOUT = "https://checkout.stripe.com"
# Where the account page's portal form leads: Stripe's billing portal.
STRIPE_PORTAL = "https://billing.stripe.com"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(settings: Settings, *, portal: bool = False) -> str:
    """The pages' CSP; ``portal`` lets a form lead to Stripe's billing portal too."""
    images = ["'self'", "data:"]
    logo = _origin(settings.brand_logo_url) if settings.brand_logo_url else None
    if logo:
        images.append(logo)
    forms = ["'self'", STRIPE_CHECKOUT] + ([STRIPE_PORTAL] if portal else [])
    sandbox = _origin(settings.stripe_api_base) if settings.stripe_api_base else None
    if sandbox:
        forms.append(sandbox)
    return (
        CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src " + " ".join(images))
        .replace("form-action 'self'", "form-action " + " ".join(forms))
    )


def _channels(color: str) -> tuple[int, int, int]:
    digits = color.removeprefix("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _luminance(color: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = _channels(color)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def text_on(color: str) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG contrast)."""
    lum = _luminance(color)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def theme_css(settings: Settings) -> str:
    # brand_color is a validated #rgb/#rrggbb and brand_font a validated font-family list
    # (letters, digits, spaces, hyphens, commas and quoted names): nothing else can reach
    # this stylesheet.
    accent = settings.brand_color
    font = f"  --pg-font: {settings.brand_font};\n" if settings.brand_font else ""
    return (
        ":root {\n"
        f"  --pg-accent: {accent};\n"
        f"  --pg-on-accent: {text_on(accent)};\n"
        f"{font}"
        "}\n"
    )
