"""The stripe gateway's reads of the account's balance and payouts (the dashboard's Payouts
page): one Stripe call each, objects as JSON dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from plangate.gateways.base import StripeDict

T = TypeVar("T")


class PayoutReads:
    client: stripe.StripeClient

    def _call(self, fn: Callable[[], T]) -> T:
        raise NotImplementedError  # StripeGateway's, which translates the SDK's errors

    def retrieve_balance(self) -> StripeDict:
        return self._call(lambda: _page_dict(self.client.v1.balance.retrieve()))

    def list_payouts(
        self, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        params: dict[str, Any] = {"limit": limit}
        if starting_after:
            params["starting_after"] = starting_after
        page = self._call(lambda: self.client.v1.payouts.list(params))  # type: ignore[arg-type]
        return [_page_dict(p) for p in page.data], bool(page.has_more)

    def retrieve_payout(self, payout_id: str) -> StripeDict:
        return self._call(lambda: _page_dict(self.client.v1.payouts.retrieve(payout_id)))

    def list_balance_transactions(
        self, *, payout: str, limit: int
    ) -> tuple[list[StripeDict], bool]:
        page = self._call(
            lambda: self.client.v1.balance_transactions.list({"payout": payout, "limit": limit})
        )
        return [_page_dict(t) for t in page.data], bool(page.has_more)


def _page_dict(obj: Any) -> StripeDict:
    result: StripeDict = obj.to_dict()
    return result
