"""A plain in-memory model of the item rules, written independently of the service: every
consumption is spread over lots at once, and time moves event by event. The property test
drives the real service and this model with the same steps and compares balances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from plangate.domain.catalog import Catalog, Product
from plangate.domain.intervals import add_intervals

_FAR = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass
class Lot:
    seq: int
    remaining: int
    expires_at: datetime | None
    ownership: int | None
    ends_with_ownership: bool


@dataclass
class Owned:
    seq: int
    product: Product
    anchor: datetime
    quantity: int
    source: str
    next_period: int = 0
    live: bool = True


@dataclass
class Model:
    catalog: Catalog
    customer_type: str
    now: datetime
    item: str
    lots: list[Lot] = field(default_factory=list)
    owned: list[Owned] = field(default_factory=list)
    debt: int = 0
    counter: int = 0

    def _seq(self) -> int:
        self.counter += 1
        return self.counter

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots) - self.debt

    # -- time --------------------------------------------------------------------------------
    def _next_grant(self, o: Owned) -> datetime | None:
        grant = o.product.items.get(self.item)
        if grant is None or not o.live:
            return None
        if grant.repeat is None:
            return o.anchor if o.next_period == 0 else None
        return add_intervals(o.anchor, grant.repeat, o.next_period)

    def advance(self, to: datetime) -> None:
        while True:
            candidates: list[tuple[datetime, int, int, object]] = []
            for lot in self.lots:
                if lot.expires_at is not None and lot.expires_at <= to:
                    candidates.append((lot.expires_at, 0, lot.seq, lot))
            for o in self.owned:
                at = self._next_grant(o)
                if at is not None and at <= to:
                    candidates.append((at, 1, o.seq, o))
            if not candidates:
                break
            at, _, _, what = min(candidates, key=lambda c: c[:3])
            if isinstance(what, Lot):
                self.lots.remove(what)
            else:
                assert isinstance(what, Owned)
                self._grant_period(what, at)
        self.now = to

    def _grant_period(self, o: Owned, at: datetime) -> None:
        grant = o.product.items[self.item]
        period = o.next_period
        o.next_period += 1
        quantity = grant.quantity * o.quantity
        expires = None
        if grant.expires == "when_repeated" and grant.repeat is not None:
            expires = add_intervals(o.anchor, grant.repeat, period + 1)
        self._add(quantity, expires, o.seq, grant.expires != "never")

    def _add(
        self, quantity: int, expires: datetime | None, ownership: int | None, ends: bool
    ) -> None:
        paid = min(self.debt, quantity)
        self.debt -= paid
        if quantity - paid > 0:
            self.lots.append(Lot(self._seq(), quantity - paid, expires, ownership, ends))

    def _take(self, quantity: int) -> None:
        for lot in sorted(self.lots, key=lambda lot: (lot.expires_at or _FAR, lot.seq)):
            taken = min(lot.remaining, quantity)
            lot.remaining -= taken
            quantity -= taken
        self.lots = [lot for lot in self.lots if lot.remaining > 0]
        self.debt += quantity

    # -- ownership ---------------------------------------------------------------------------
    def _end(self, o: Owned) -> None:
        o.live = False
        self.lots = [
            lot for lot in self.lots if not (lot.ownership == o.seq and lot.ends_with_ownership)
        ]

    def _live(self) -> list[Owned]:
        return [o for o in self.owned if o.live]

    def _start(self, product: Product, source: str, quantity: int = 1) -> None:
        o = Owned(self._seq(), product, self.now, quantity, source)
        self.owned.append(o)
        if self.item in product.items:
            self._grant_period(o, self.now)

    def refresh(self) -> None:
        changed = True
        while changed:
            changed = False
            ids = {o.product.id for o in self._live()}
            for o in self._live():
                if o.product.add_on_to and not ids.intersection(o.product.add_on_to):
                    self._end(o)
                    changed = True
            for line in self.catalog.lines.values():
                default = self.catalog.default_product(line.id)
                if line.customer_type != self.customer_type or default is None:
                    continue
                in_line = [o for o in self._live() if o.product.line == line.id]
                if any(o.source != "default" for o in in_line):
                    for o in in_line:
                        if o.source == "default":
                            self._end(o)
                            changed = True
                elif not in_line:
                    self._start(default, "default")
                    changed = True

    def grant(self, product_id: str, quantity: int = 1) -> str | None:
        """Returns the refusal code, or None when granted."""
        product = self.catalog.products[product_id]
        live = self._live()
        if product.add_on_to and not any(o.product.id in product.add_on_to for o in live):
            return "add_on_requires_base"
        if not product.stackable and any(
            o.product.id == product.id and o.source != "default" for o in live
        ):
            return "already_owned"
        if product.line:
            for o in live:
                if o.product.line == product.line:
                    self._end(o)
        self._start(product, "grant", quantity)
        self.refresh()
        return None

    def revoke(self, product_id: str) -> str | None:
        grants = [o for o in self._live() if o.product.id == product_id and o.source == "grant"]
        if not grants:
            return "product_not_owned"
        for o in grants:
            self._end(o)
        self.refresh()
        return None

    # -- item changes ------------------------------------------------------------------------
    def consume(self, quantity: int) -> bool:
        if self.balance < quantity:
            return False
        self._take(quantity)
        return True

    def add(self, quantity: int, expires: datetime | None) -> None:
        self._add(quantity, expires, None, False)

    def remove(self, quantity: int, allow_negative: bool) -> bool:
        if not allow_negative and self.balance < quantity:
            return False
        self._take(quantity)
        return True
