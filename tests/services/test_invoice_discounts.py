"""How an invoice's discounts read on `GET {c}/invoices`, from Stripe's invoice shapes."""

from __future__ import annotations

from plangate.services.commerce.invoices import invoice_summary


def _invoice(**extra: object) -> dict[str, object]:
    return {
        "id": "in_1",
        "currency": "eur",
        "subtotal": 1999,
        "total": 1549,
        "amount_due": 1549,
        "amount_paid": 1549,
        "amount_remaining": 0,
        **extra,
    }


def test_expanded_discounts_show_name_terms_and_code() -> None:
    summary = invoice_summary(
        _invoice(
            discounts=[
                {
                    "id": "di_1",
                    "object": "discount",
                    "end": None,
                    "source": {
                        "type": "coupon",
                        "coupon": {
                            "id": "plangate_spring_0f0f0f0f",
                            "name": "Spring",
                            "percent_off": 22.5,
                        },
                    },
                    "promotion_code": {"id": "promo_1", "code": "SPRING"},
                }
            ],
            total_discount_amounts=[{"amount": 450, "discount": "di_1"}],
        )
    )
    assert summary is not None
    assert summary["subtotal_decimal"] == "19.99" and summary["total_discount"] == 450
    assert summary["total_discount_decimal"] == "4.50"
    assert summary["discounts"] == [
        {
            "id": "di_1",
            "amount": 450,
            "amount_decimal": "4.50",
            "coupon_id": "plangate_spring_0f0f0f0f",
            "name": "Spring",
            "percent_off": "22.5",
            "promotion_code": "SPRING",
            "end": None,
        }
    ]


def test_discounts_named_by_id_only_still_show_their_amount() -> None:
    summary = invoice_summary(
        _invoice(discounts=["di_2"], total_discount_amounts=[{"amount": 450, "discount": "di_2"}])
    )
    assert summary is not None
    [discount] = summary["discounts"]
    assert (discount["id"], discount["amount"], discount["name"]) == ("di_2", 450, None)


def test_an_invoice_without_discounts() -> None:
    summary = invoice_summary(_invoice(total=1999, discounts=[], total_discount_amounts=[]))
    assert summary is not None
    assert summary["discounts"] == [] and summary["total_discount"] == 0
