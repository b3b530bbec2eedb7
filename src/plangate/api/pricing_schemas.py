"""Response shapes of the public pricing route (``GET /v1/pricing/{line_id}``). Amounts are
integers in the currency's minor units, with the decimal string and a display rendering
beside them: nothing here is a float."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from plangate.services.pricing import PricingTable


class PricingAmount(BaseModel):
    currency: str = Field(description="lowercase ISO 4217 code")
    unit_amount: int = Field(description="in the currency's minor units (cents for USD)")
    amount_decimal: str = Field(description="the same amount as a decimal string")
    display: str = Field(description="a locale-free rendering, e.g. $19.99")


class PricingSaving(BaseModel):
    currency: str
    unit_amount: int = Field(description="saved against twelve months of the monthly price")
    display: str
    percent: int = Field(description="rounded down")


class PricingPrice(BaseModel):
    id: str
    interval: str = Field(description="`month`, `year`, `3 months`...; `once` if one-time")
    trial_days: int | None
    amounts: list[PricingAmount]
    savings: list[PricingSaving]


class PricingFeature(BaseModel):
    id: str
    name: str
    description: str | None


class PricingItem(BaseModel):
    id: str
    name: str
    quantity: int
    repeat: str | None = Field(description="how often it refills; null when it does not")
    text: str = Field(description="in words, e.g. `5,000 Credits every month`")


class PricingPlan(BaseModel):
    id: str
    name: str
    description: str | None
    default: bool = Field(description="owned whenever no other plan of the line is; not sold")
    features: list[PricingFeature]
    items: list[PricingItem]
    prices: list[PricingPrice]


class PricingOut(BaseModel):
    line_id: str
    name: str
    description: str | None
    customer_type: Literal["user", "team", "custom"]
    intervals: list[str] = Field(description="shortest first; `once` last")
    currencies: list[str]
    default_currency: str
    plans: list[PricingPlan]


def pricing_out(table: PricingTable) -> PricingOut:
    return PricingOut(
        line_id=table.line_id,
        name=table.name,
        description=table.description,
        customer_type=table.customer_type,
        intervals=list(table.intervals),
        currencies=list(table.currencies),
        default_currency=table.default_currency,
        plans=[
            PricingPlan(
                id=plan.id,
                name=plan.name,
                description=plan.description,
                default=plan.default,
                features=[PricingFeature(id=f.id, name=f.name, description=f.description)
                          for f in plan.features],
                items=[PricingItem(id=i.id, name=i.name, quantity=i.quantity, repeat=i.repeat,
                               text=i.text) for i in plan.items],
                prices=[
                    PricingPrice(
                        id=price.id,
                        interval=price.interval,
                        trial_days=price.trial_days,
                        amounts=[PricingAmount(currency=a.currency, unit_amount=a.unit_amount,
                                           amount_decimal=a.amount_decimal, display=a.display)
                                 for a in price.amounts],
                        savings=[PricingSaving(currency=s.currency, unit_amount=s.unit_amount,
                                           display=s.display, percent=s.percent)
                                 for s in price.savings],
                    )
                    for price in plan.prices
                ],
            )
            for plan in table.plans
        ],
    )
