"""Kits: kit types and their BOMs, ASNs ahead of demand, dock receipts with shortages and damage, the
decisions on each discrepancy, release to the line (build-short when a shortage was accepted).

Logistics announces each shipment some days before it arrives, sized to top the kits on hand and in transit
up to the scenario's days of supply. At the dock each kit is counted; a few have a part missing (M or S),
damaged (D, DT, DP) or rusted (A). A damaged part waits for its replacement; a rusted one is cleaned and
written off; a missing part is either replaced before release or accepted as a shortage, and the kit goes
to the line build-short: its truck waits at the station that fits the part until the replacement arrives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from plant_sim.actions import Kind
from plant_sim.model.world import World

DOCK_OPENS = time(8, 0)
FIRST_DELIVERY = time(4, 0)
READY_MARGIN = timedelta(minutes=2)  # a released kit is taken this long after its release at the earliest


@dataclass(frozen=True, slots=True)
class BomLine:
    part: str
    description: str
    quantity: int
    station: str  # scenario station code


@dataclass(frozen=True, slots=True)
class KitType:
    code: str
    model: str  # scenario model code
    variant: str
    lines: tuple[BomLine, ...]


@dataclass(eq=False)
class Discrepancy:
    part: str
    claim_code: str
    quantity: int
    station: str  # scenario station code
    counted: int
    plan: str  # "replace", "accept" (build short, replaced later) or "write_off"
    decided_at: datetime | None = None
    replaced_at: datetime | None = None
    replacement_seq: int | None = None


@dataclass(eq=False)
class Kit:
    n: int
    serial: str
    kit_type: KitType
    shipment: str
    announce_seq: int | None = None
    receipt_seq: int | None = None
    last_seq: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    released_at: datetime | None = None
    release_seq: int | None = None

    def waiting_at(self, station: str) -> Discrepancy | None:
        """An accepted shortage of a part fitted at `station` (its replacement time says until when)."""
        return next((d for d in self.discrepancies if d.plan == "accept" and d.station == station), None)


class Kits:
    def __init__(self, world: World) -> None:
        self.w = world
        self.spec = world.scenario.kits
        self._rng = world.env.rng("kits")
        self._receipt = world.env.rng("receipts")
        self.types: list[tuple[KitType, float]] = []
        self.type_seqs: dict[str, int] = {}
        self.available: deque[Kit] = deque()
        self.pipeline = 0  # announced or on hand, not yet consumed
        self._kits = 0
        self._shipments = 0
        self.on_release: Callable[[], None] = lambda: None
        self.announced = self.received = self.released = 0

    # ---- set-up ----------------------------------------------------------------------------------

    def setup(self) -> None:
        lines = []
        for station in self.w.stations:
            lines += [BomLine(p.part, p.description, p.quantity, station.id) for p in station.parts]
            lines += [BomLine(c.part, c.description, 1, station.id) for c in station.components if c.source == "kit"]
        for model in self.w.scenario.models:
            total = sum(v.share for v in model.variants) or 1.0
            for variant in model.variants:
                kit_type = KitType(
                    self.w.ids.kit_type(model.code, variant.code), model.code, variant.code, tuple(lines)
                )
                self.types.append((kit_type, model.share * variant.share / total))
                self.type_seqs[kit_type.code] = self.w.env.emit(
                    Kind.DEFINE_KIT_TYPE,
                    f"kit-type:{kit_type.code}",
                    {
                        "code": kit_type.code,
                        "model": self.w.ids.model(model.code),
                        "variant": variant.code,
                        "description": f"{model.name}, {variant.name}",
                        "lines": [
                            {
                                "part_number": ln.part,
                                "description": ln.description,
                                "quantity": ln.quantity,
                                "station": self.w.station_ids[ln.station],
                            }
                            for ln in lines
                        ],
                    },
                )

    def start(self) -> None:
        env = self.w.env
        if self.spec.initial_stock:
            first_working_day = self.w.calendar.nth_working_day(self.w.first_day, 1)
            arrival = self.w.calendar.local(first_working_day, FIRST_DELIVERY)
            env.at(env.now + timedelta(minutes=1), lambda: self._announce(arrival, self.spec.initial_stock))
        self._plan(1)

    # ---- shipments -------------------------------------------------------------------------------

    def _arrival(self, k: int) -> datetime:
        day = self.w.first_day + timedelta(days=k * self.spec.shipment_every_days)
        while not self.w.calendar.is_working_day(day):
            day += timedelta(days=1)
        minutes = self.w.env.rng(f"shipment-{k}").uniform(0, 180)
        return (self.w.calendar.local(day, DOCK_OPENS) + timedelta(minutes=minutes)).replace(microsecond=0)

    def _plan(self, k: int) -> None:
        arrival = self._arrival(k)
        env = self.w.env
        announce = max(arrival - timedelta(days=self.spec.announce_ahead_days), env.now + timedelta(minutes=2))
        env.at(announce, lambda: self._announce_regular(k, arrival))

    def _announce_regular(self, k: int, arrival: datetime) -> None:
        cal, env = self.w.calendar, self.w.env
        ahead = cal.working_days_between(cal.local_date(env.now), cal.local_date(arrival))
        rate = self.w.trucks_per_working_day
        wanted = rate * (ahead + self.spec.target_days_of_supply) - self.pipeline
        size = max(0, min(round(wanted), round(rate * self.spec.shipment_every_days * 3) + 1))
        if size:
            self._announce(arrival, size)
        self._plan(k + 1)

    def _announce(self, arrival: datetime, size: int) -> None:
        env = self.w.env
        self._shipments += 1
        shipment = self.w.ids.shipment(self._shipments)
        carriers = self.spec.carriers
        carrier = self._rng.choices(carriers, weights=[c.share for c in carriers])[0]
        kits = []
        for _ in range(size):
            kit_type = self._rng.choices([t for t, _ in self.types], weights=[w for _, w in self.types])[0]
            self._kits += 1
            kits.append(Kit(self._kits, self.w.ids.kit(self._kits), kit_type, shipment))
        seq = env.emit(
            Kind.ANNOUNCE_SHIPMENT,
            f"shipment:{shipment}",
            {
                "shipment_id": shipment,
                "carrier": carrier.name,
                "origin": carrier.origin,
                "expected_arrival": arrival,
                "kits": [
                    {
                        "serial": k.serial,
                        "kit_type": k.kit_type.code,
                        "cases": [f"C{i:02d}" for i in range(1, 4 + k.n % 3)],
                    }
                    for k in kits
                ],
            },
            requires=tuple(self.type_seqs.values()),
        )
        self.pipeline += size
        self.announced += size
        dock = self._rng.choice(self.spec.docks)
        at = arrival
        for kit in kits:
            kit.announce_seq = kit.last_seq = seq
            env.at(at, lambda k=kit: self._receive(k, dock))
            at += timedelta(seconds=round(self._rng.uniform(90, 240)))

    # ---- receipt and decisions -------------------------------------------------------------------

    def _findings(self, kit: Kit) -> list[Discrepancy]:
        rng, spec = self._receipt, self.spec.discrepancies
        if rng.random() >= spec.rate:
            return []
        lines = list(kit.kit_type.lines)
        count = 2 if rng.random() < 0.15 and len(lines) > 1 else 1
        found = []
        for line in rng.sample(lines, count):
            roll = rng.random()
            if roll < spec.shortage_share:
                plan = "accept" if rng.random() < spec.build_short_share else "replace"
                if line.quantity >= 2 and rng.random() < 0.5:
                    missing = rng.randint(1, line.quantity - 1)
                    found.append(Discrepancy(line.part, "S", missing, line.station, line.quantity - missing, plan))
                else:
                    found.append(Discrepancy(line.part, "M", line.quantity, line.station, 0, plan))
            elif roll < spec.shortage_share + spec.damage_share:
                code = rng.choice(("D", "DT", "DP"))
                found.append(Discrepancy(line.part, code, 1, line.station, line.quantity, "replace"))
            else:
                found.append(Discrepancy(line.part, "A", 1, line.station, line.quantity, "write_off"))
        return found

    def _receive(self, kit: Kit, dock: str) -> None:
        env, spec = self.w.env, self.spec.discrepancies
        kit.discrepancies = self._findings(kit)
        lines = []
        for d in kit.discrepancies:
            line: dict[str, object] = {"part_number": d.part, "counted": d.counted}
            if d.claim_code not in ("M", "S"):
                line["findings"] = [{"claim_code": d.claim_code, "quantity": d.quantity}]
            lines.append(line)
        kit.receipt_seq = kit.last_seq = env.emit(
            Kind.RECEIVE_KIT,
            f"kit:{kit.serial}",
            {
                "serial": kit.serial,
                "kit_type": kit.kit_type.code,
                "dock": dock,
                "lines": lines,
                "discrepancies": [{"part_number": d.part, "claim_code": d.claim_code} for d in kit.discrepancies],
            },
            requires=(kit.announce_seq,),
        )
        self.received += 1
        if not kit.discrepancies:
            self._schedule_release(kit, env.now)
            return
        rng = self._receipt
        for d in kit.discrepancies:
            hours = rng.uniform(spec.decision_hours.low, spec.decision_hours.high)
            days = rng.uniform(spec.replacement_days.low, spec.replacement_days.high)
            replaced = _whole(env.now + timedelta(days=days))
            if d.plan == "accept":
                d.decided_at = _whole(env.now + timedelta(hours=hours))
                d.replaced_at = max(replaced, d.decided_at + timedelta(minutes=30))
                env.at(d.decided_at, lambda d=d: self._resolve(kit, d, "shortage_accepted"))
                env.at(d.replaced_at, lambda d=d: self._resolve(kit, d, "replacement_received"))
            elif d.plan == "write_off":
                d.decided_at = _whole(env.now + timedelta(hours=hours))
                env.at(d.decided_at, lambda d=d: self._resolve(kit, d, "written_off"))
            else:
                d.decided_at = d.replaced_at = replaced
                env.at(replaced, lambda d=d: self._resolve(kit, d, "replacement_received"))
        decided = max(d.decided_at for d in kit.discrepancies if d.decided_at is not None)
        self.w.env.at(decided, lambda: self._schedule_release(kit, decided))

    def _resolve(self, kit: Kit, d: Discrepancy, resolution: str) -> None:
        notes = {
            "shortage_accepted": "build short: the part follows by air freight",
            "replacement_received": "replacement part received",
            "written_off": "cleaned and passed by quality",
        }
        seq = self.w.env.emit(
            Kind.RESOLVE_DISCREPANCY,
            f"kit:{kit.serial}",
            {
                "serial": kit.serial,
                "part_number": d.part,
                "claim_code": d.claim_code,
                "resolution": resolution,
                "note": notes[resolution],
            },
            requires=(kit.last_seq,),
        )
        kit.last_seq = seq
        if resolution == "replacement_received":
            d.replacement_seq = seq

    def _schedule_release(self, kit: Kit, ready: datetime) -> None:
        minutes = self._receipt.uniform(self.spec.release_minutes.low, self.spec.release_minutes.high)
        self.w.env.at(_whole(ready + timedelta(minutes=minutes)), lambda: self._release(kit))

    def _release(self, kit: Kit) -> None:
        env = self.w.env
        kit.release_seq = kit.last_seq = env.emit(
            Kind.RELEASE_KIT, f"kit:{kit.serial}", {"serial": kit.serial}, requires=(kit.last_seq,)
        )
        kit.released_at = env.now
        self.released += 1
        self.available.append(kit)
        env.at(env.now + READY_MARGIN, self.on_release)

    # ---- to the line -----------------------------------------------------------------------------

    def take(self, now: datetime) -> Kit | None:
        """The longest-released kit ready for a build order, if any."""
        head = self.available[0] if self.available else None
        if head is None or head.released_at is None or head.released_at + READY_MARGIN > now:
            return None
        self.pipeline -= 1
        return self.available.popleft()


def _whole(at: datetime) -> datetime:
    return at.replace(microsecond=0)
