"""Model-based test of the routing engine: no offered action fails, no dossier is stranded.

A hypothesis ``RuleBasedStateMachine`` routes one dossier through a template — every demo template
shape (services/demo/procedures.py plans them) and randomly generated templates that pass validation — and
at each step picks one of the actions that ``allowed_actions`` offers to some officer of the world (a
counter, a specialist and a head in every unit, the ward's leader, an administrator), or the citizen's
answer to a pause (the supplement, the payment provider's report), the postal operator's delivery
of a result to be returned by post, or — for an electronic result — the citizen's first download or the
worker's return after the set days. It drives the service layer (``transition``, ``answer_supplement``,
``payments.succeeded``, ``postal.result_delivered``, ``eresult.deliver``, ``eresult.auto_return``) on the
rolled-back test database, not HTTP, and checks:

(a) every offered action succeeds with valid input (any 4xx ``DomainError`` fails the test), and the
    dossier ends where the abstract model below says (status, step, apology);
(b) from every reachable state a result can still be handed back: a bounded search over the abstract
    model, through the actions the engine's own ``possible_actions`` offers and some officer of the
    world may take (``caller_may``), reaches ``returned`` without ``withdraw`` or ``stop`` (those end
    any open dossier and would make the property empty), and a final state offers nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, note
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from services.calendar.receipt import Channel
from services.calendar.store import calendar_for
from services.calendar.working import VN_TZ
from services.core.audit import Origin
from services.core.auth import Actor
from services.core.config import Settings
from services.demo.procedures import load_procedure_records, plan_steps, skip_reason
from services.dossier import eresult, lifecycle
from services.dossier.steps import ON_THE_SPOT_ROLE, Position, allowed_actions, caller_may, possible_actions
from services.intake import payments, postal
from services.intake.webhooks import Inbound
from services.models import Agency, Document, Dossier, Payment, ProcedureAgency, WorkflowStep, WorkflowTemplate
from services.sla.clocks import WarningPolicy
from services.workflow.engine import TransitionIn, start_routing, transition
from services.workflow.template_rules import ACTIONS, StepSpec, template_problems
from tests.factories import create_agency, create_dossier, create_procedure_version, create_staff

ROLES = ("counter", "specialist", "head")
UNITS = ("land", "tax")  # besides the receiving ward; the demo's department keys are added to these
FINAL = frozenset({"returned", "refused", "withdrawn", "stopped"})
ENDING = frozenset({"withdraw", "stop"})  # end an open dossier early, whatever its step
POLICY = WarningPolicy()
START = datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ)

# (code, unit key or None for the receiving agency, role, actions)
Plan = tuple[tuple[str, str | None, str, tuple[str, ...]], ...]


def demo_shapes() -> list[Plan]:
    """Every demo template, one per distinct shape (units as keys, roles, actions; shares left out)."""
    shapes: dict[Plan, None] = {}
    for record in load_procedure_records():
        if skip_reason(record) is None:
            plan = tuple((s.code, s.agency, s.role, s.actions) for s in plan_steps(record))
            shapes.setdefault(plan, None)
    return list(shapes)


DEMO_SHAPES = demo_shapes()
DEMO_UNITS = sorted({unit for shape in DEMO_SHAPES for _, unit, _, _ in shape if unit is not None})


def problems_of(plan: Plan, *, on_the_spot: bool = False) -> list[str]:
    specs = [
        StepSpec(code=c, role=r, agency_code=u, share_value=Decimal(0), share_unit="working_days", actions=a)
        for c, u, r, a in plan
    ]
    found = template_problems(
        specs, limit_value=0, limit_unit="working_days", known_roles=(*ROLES, ON_THE_SPOT_ROLE),
        known_agencies=(*UNITS, *DEMO_UNITS), on_the_spot=on_the_spot,
    )  # fmt: skip
    return [problem.code for problem in found]


@st.composite
def random_templates(draw: st.DrawFn) -> Plan:
    """Valid templates: 1-5 random steps, maybe the demo's receive head and return tail."""
    count = draw(st.integers(1, 5))
    steps: list[tuple[str, str | None, str, tuple[str, ...]]] = []
    if draw(st.booleans()):
        steps.append(("receive", None, "counter", ("forward", "request_supplement", "withdraw")))
    for index in range(count):
        actions = set(draw(st.sets(st.sampled_from(ACTIONS), max_size=6)))
        if index < count - 1:
            actions.add(draw(st.sampled_from(["forward", "transfer"])))  # else a dead end, always refused
        unit = draw(st.sampled_from([None, *UNITS]))
        steps.append((f"s{index}", unit, draw(st.sampled_from(ROLES)), tuple(sorted(actions))))
    resolver = draw(st.integers(0, len(steps) - 1))
    code, unit, role, actions = steps[resolver]
    steps[resolver] = (code, unit, role, tuple(sorted({*actions, "resolve"})))
    if draw(st.booleans()):
        code, unit, role, actions = steps[-1]
        steps[-1] = (code, unit, role, tuple(sorted({*actions, "forward"})))
        steps.append(("return", None, "counter", ("apologize", "return_result")))
    return tuple(steps)


def valid_random_templates() -> st.SearchStrategy[Plan]:
    return random_templates().filter(lambda plan: not problems_of(plan))


# --- the abstract model -------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    status: str
    index: int
    apology: bool


def model_next(state: State, action: str, *, target: int | None = None) -> State:
    """Where the engine should put the dossier after ``action`` (or supplement, pay, delivered)."""
    moves = {
        "forward": State("processing", state.index + 1, state.apology),
        "transfer": State("processing", state.index + 1, state.apology),
        "request_supplement": State("awaiting_supplement", state.index, state.apology),
        "request_payment": State("awaiting_payment", state.index, state.apology),
        "supplement": State("processing", state.index, state.apology),
        "pay": State("processing", state.index, state.apology),
        "delivered": State("returned", state.index, state.apology),
        "downloaded": State("returned", state.index, state.apology),
        "auto_returned": State("returned", state.index, state.apology),
        "resolve": State("resolved", state.index, state.apology),
        "stop": State("stopped", state.index, state.apology),
        "return_result": State("returned", state.index, state.apology),
        "apologize": State(state.status, state.index, True),
        "withdraw": State("withdrawn", state.index, state.apology),
    }
    if action == "send_back":
        assert target is not None
        return State("processing", target, state.apology)
    return moves[action]


@dataclass
class Model:
    """A template's steps as rows (not stored) and the world's officers, for the pure engine functions."""

    steps: list[WorkflowStep]
    receiving: uuid.UUID
    return_method: str
    actors: list[Actor]

    def dossier(self, state: State) -> Dossier:
        step = self.steps[state.index]
        return Dossier(
            status=state.status,
            return_method=self.return_method,
            apology_issued=state.apology,
            receiving_agency_id=self.receiving,
            current_agency_id=self.receiving if state.status == "resolved" else step.agency_id or self.receiving,
            current_step_position=step.position,
            current_assignee_id=None,
        )

    def moves(self, state: State) -> Iterator[tuple[str, State]]:
        """The offered actions someone may take, the citizen's answers to a pause, the postal delivery."""
        dossier = self.dossier(state)
        where = Position(steps=self.steps, step=self.steps[state.index], timer=None)
        for action in possible_actions(dossier, where):
            if not any(caller_may(dossier, where, actor, action) for actor in self.actors):
                continue
            if action == "send_back":
                for step in where.send_back_targets(dossier):
                    yield action, model_next(state, action, target=self.steps.index(step))
            else:
                yield action, model_next(state, action)
        if state.status == "awaiting_supplement":
            yield "supplement", model_next(state, "supplement")
        if state.status == "awaiting_payment":
            yield "pay", model_next(state, "pay")
        if state.status == "resolved" and self.return_method == "postal":
            yield "delivered", model_next(state, "delivered")
        if state.status == "resolved" and self.return_method == "online":
            yield "downloaded", model_next(state, "downloaded")
            yield "auto_returned", model_next(state, "auto_returned")

    def can_hand_back(self, state: State) -> bool:
        """A bounded search: ``returned`` is reachable without withdrawing or stopping."""
        seen = {state}
        queue = deque([state])
        while queue and len(seen) <= 8 * len(self.steps) + 8:
            current = queue.popleft()
            if current.status == "returned":
                return True
            for action, following in self.moves(current):
                if action not in ENDING and following not in seen:
                    seen.add(following)
                    queue.append(following)
        return False


# --- the world on the rolled-back test database --------------------------------------------------


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    session: AsyncSession
    settings: Settings
    ward: Agency
    units: dict[str, Agency]
    actors: list[Actor]

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)


async def build_world(session: AsyncSession, settings: Settings, loop: asyncio.AbstractEventLoop) -> World:
    ward = await create_agency(session, level="commune")
    units = {key: await create_agency(session) for key in (*UNITS, *DEMO_UNITS)}
    actors: list[Actor] = []
    # the template roles in every unit; the ward's leader and an administrator (who may act anywhere)
    people = [(agency, role) for agency in (ward, *units.values()) for role in ROLES]
    for agency, role in [*people, (ward, "leader"), (ward, "admin")]:
        staff = await create_staff(session, agency=agency, roles=(role,), password="demo")
        actors.append(Actor(subject=str(staff.id), username=staff.username, roles=frozenset({role}),
                            agency_id=agency.id))  # fmt: skip
    # the ward's counter officer delegated to resolve "4 tại chỗ" procedures (their step's role)
    delegated = ("counter", ON_THE_SPOT_ROLE)
    signer = await create_staff(session, agency=ward, roles=delegated, password="demo")
    actors.append(Actor(subject=str(signer.id), username=signer.username, roles=frozenset(delegated),
                        agency_id=ward.id))  # fmt: skip
    await session.flush()
    return World(loop=loop, session=session, settings=settings, ward=ward, units=units, actors=actors)


@pytest.fixture(scope="module")
def world(database_url: str, settings: Settings) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    engine: AsyncEngine = create_async_engine(database_url)

    async def open_() -> tuple[AsyncConnection, AsyncSession]:
        connection = await engine.connect()
        await connection.begin()
        session = AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
        return connection, session

    connection, session = loop.run_until_complete(open_())
    try:
        yield loop.run_until_complete(build_world(session, settings, loop))
    finally:

        async def close() -> None:
            await session.close()
            await connection.rollback()
            await connection.close()
            await engine.dispose()

        loop.run_until_complete(close())
        loop.close()


class EngineMachine(RuleBasedStateMachine):
    """One dossier per example; the template is drawn by ``templates`` (set by the test)."""

    world: World
    templates: st.SearchStrategy[Plan]
    taken: Counter[str]  # the actions taken, over all examples
    methods: tuple[str, ...] = ("counter", "postal")  # the return methods an example's dossier is drawn with
    # an online result's end offered besides the desk's return_result (the model knows them all); None: the
    # citizen never downloads and the set days never pass, the desk hands a paper copy over
    citizen_end: str | None = "downloaded"

    def __init__(self) -> None:
        super().__init__()
        self.w = self.world
        self.savepoint = self.w.run(self.w.session.begin_nested())
        self.now = START
        self.model: Model | None = None
        self.dossier: Dossier | None = None
        self.state: State | None = None
        self.mine: Counter[str] = Counter()  # the actions taken in this example

    def teardown(self) -> None:
        self.w.run(self.savepoint.rollback())
        self.w.session.expunge_all()

    # --- setting up ---

    @initialize(data=st.data())
    def route_a_dossier(self, data: st.DataObject) -> None:
        plan = data.draw(self.templates, label="template")
        note(f"template: {plan}")
        method = data.draw(st.sampled_from(list(self.methods)), label="return_method")
        self.w.run(self._route(plan, method))

    async def _route(self, plan: Plan, return_method: str = "counter") -> None:
        session = self.w.session
        version = await create_procedure_version(session, limit_value=3)
        session.add(ProcedureAgency(version_id=version.id, agency_id=self.w.ward.id, role="receiving"))
        template = WorkflowTemplate(procedure_version_id=version.id, name="Quy trình mô hình", version=1, active=True)
        session.add(template)
        await session.flush()
        share = Decimal(3) / len(plan)
        steps = [
            WorkflowStep(
                template_id=template.id, position=number, code=code, name=code,
                agency_id=self.w.units[unit].id if unit else None, role_code=role, share_value=share,
                share_unit="working_days", allowed_actions=list(actions),
            )
            for number, (code, unit, role, actions) in enumerate(plan, start=1)
        ]  # fmt: skip
        session.add_all(steps)
        dossier = await create_dossier(session, agency=self.w.ward, version=version, status="submitted")
        await lifecycle.receive(
            session, dossier, at=self.now, channel=Channel.COUNTER, policy=POLICY, actor=None, source="intake"
        )
        assert await start_routing(session, dossier, at=self.now, policy=POLICY)
        await session.flush()
        self.dossier = dossier
        dossier.return_method = return_method
        self.model = Model(steps=steps, receiving=self.w.ward.id, return_method=return_method, actors=self.w.actors)
        self.state = State("processing", self._index(), False)

    def _index(self) -> int:
        assert self.model is not None
        assert self.dossier is not None
        return next(i for i, s in enumerate(self.model.steps) if s.position == self.dossier.current_step_position)

    # --- acting ---

    async def _offers(self) -> list[tuple[Actor | None, str]]:
        assert self.dossier is not None
        assert self.model is not None
        offers: list[tuple[Actor | None, str]] = []
        for actor in self.model.actors:
            offers += [(actor, action) for action in await allowed_actions(self.w.session, self.dossier, actor)]
        if self.dossier.status == "awaiting_supplement":
            offers.append((None, "supplement"))
        if self.dossier.status == "awaiting_payment":
            offers.append((None, "pay"))
        if self.dossier.status == "resolved" and self.dossier.return_method == "postal":
            offers.append((None, "delivered"))
        if self.dossier.status == "resolved" and self.dossier.return_method == "online":
            offers += [(None, self.citizen_end)] if self.citizen_end else []
        return offers

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        offers = self.w.run(self._offers())
        if not offers:
            return
        # the action first (however many may take it), then who takes it. Choice 0, hypothesis's simplest
        # value, is the action taken least so far in this example (never counted across examples:
        # hypothesis replays them), those ending the dossier early last: the plain examples walk the long
        # and rare paths (a payment, a send_back); the others pick any offered action.
        offered = sorted({action for _, action in offers})
        choice = data.draw(st.integers(0, len(offered)), label="choice")
        if choice == 0:
            action = min(offered, key=lambda name: (name in ENDING, self.mine[name], name))
        else:
            action = offered[choice - 1]
        actor = data.draw(st.sampled_from([actor for actor, offered in offers if offered == action]), label="actor")
        target = None
        if action == "send_back":
            assert self.model is not None
            assert self.dossier is not None
            where = Position(steps=self.model.steps, step=self.model.steps[self._index()], timer=None)
            targets = [s.position for s in where.send_back_targets(self.dossier)]
            target = data.draw(st.sampled_from([None, *targets]), label="to_step")
        note(f"{actor.username if actor else 'citizen'}: {action} {target or ''}")
        self.now += timedelta(minutes=47)
        expected_target = None
        if action == "send_back":
            assert self.model is not None
            assert self.dossier is not None
            where = Position(steps=self.model.steps, step=self.model.steps[self._index()], timer=None)
            chosen = target or where.send_back_targets(self.dossier)[-1].position
            expected_target = next(i for i, s in enumerate(self.model.steps) if s.position == chosen)
        self.w.run(self._apply(actor, action, target))
        assert self.state is not None
        expected = model_next(self.state, action, target=expected_target)
        got = State(self.dossier.status, self._index(), bool(self.dossier.apology_issued))  # type: ignore[union-attr]
        assert got == expected, (action, got, expected)
        self.state = got
        self.taken[action] += 1
        self.mine[action] += 1

    async def _apply(self, actor: Actor | None, action: str, to_step: int | None) -> None:
        session, dossier = self.w.session, self.dossier
        assert dossier is not None
        if action == "supplement":
            await lifecycle.answer_supplement(
                session, dossier, now=self.now, policy=POLICY, note="Đã bổ sung", files=1, source="intake"
            )
        elif action == "delivered":
            data = {"dossier_code": dossier.code, "tracking_number": "EMS" + uuid.uuid4().hex[:10],
                    "occurred_at": self.now.isoformat()}  # fmt: skip
            inbound = Inbound(source="postal", webhook_id=uuid.uuid4().hex, type="postal.result_delivered",
                              data=data, now=self.now + timedelta(seconds=1), settings=self.w.settings)  # fmt: skip
            assert await postal.result_delivered(session, inbound) == "applied"
        elif action in {"downloaded", "auto_returned"}:
            session.add(
                Document(dossier_id=dossier.id, kind="result", filename="kq.pdf", content_type="application/pdf",
                         size_bytes=5, sha256="0" * 64, storage_path="model/kq.pdf")
            )  # fmt: skip
            await session.flush()
            if action == "downloaded":
                origin = Origin(service="intake", route="POST /model", client_ip=None, user_agent=None)
                await eresult.deliver(
                    session, self.w.settings, dossier, None, now=self.now, origin=origin, source="intake"
                )
            else:
                days = self.w.settings.sla.online_result_auto_return_days
                await eresult.auto_return(session, now=self.now + timedelta(days=days), days=days)
                await session.refresh(dossier)
        elif action == "pay":
            payment = await session.scalar(
                select(Payment).where(Payment.dossier_id == dossier.id, Payment.status == "requested")
            )
            assert payment is not None
            data = {"reference": payment.provider_reference, "amount_vnd": payment.amount_vnd,
                    "paid_at": self.now.isoformat()}  # fmt: skip
            inbound = Inbound(source="payment", webhook_id=uuid.uuid4().hex, type="payment.succeeded", data=data,
                              now=self.now + timedelta(seconds=1), settings=self.w.settings)  # fmt: skip
            assert await payments.succeeded(session, inbound) == "applied"
        else:
            assert actor is not None
            body = TransitionIn.model_validate(await self._valid_input(action, to_step))
            await transition(session, dossier, body, actor, now=self.now, policy=POLICY)
        await session.flush()

    async def _valid_input(self, action: str, to_step: int | None) -> dict[str, Any]:
        dossier = self.dossier
        assert dossier is not None
        body: dict[str, Any] = {"action": action, "version": dossier.lock_version, "comment": "Mô hình"}
        if action == "send_back":
            body.update(reason="Cần thẩm định lại", to_step=to_step)
        elif action == "request_supplement":
            body["items"] = [{"document": "Tờ khai", "reason": "Thiếu chữ ký của người khai"}]
        elif action == "request_payment":
            body.update(amount_vnd=50_000, description="Lệ phí")
        elif action == "stop":
            body["reasons"] = ["Không đủ điều kiện"]
        elif action == "resolve":
            body["result_note"] = "Đã cấp"
        elif action == "apologize":
            assert dossier.due_at is not None, "apologize offered without a due time"
            unit = dossier.current_agency_id or dossier.receiving_agency_id
            calendar = await calendar_for(self.w.session, unit)
            later = max(dossier.due_at, self.now).astimezone(VN_TZ)
            appointment = next(
                candidate
                for days in range(1, 60)
                if calendar.is_working_time(
                    candidate := (later + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
                )
            )
            body.update(reason="Chờ xác minh thông tin", new_appointment=appointment.isoformat())
        return body

    # --- the properties ---

    @invariant()
    def a_result_can_still_be_handed_back(self) -> None:
        if self.state is None or self.model is None:
            return
        if self.state.status in FINAL:
            assert not list(self.model.moves(self.state)), f"a {self.state.status} dossier is offered actions"
            return
        assert self.model.can_hand_back(self.state), f"stranded at {self.state}"
        # and no offered action leads to a state that could not be finished either (taken or not)
        for action, following in self.model.moves(self.state):
            assert following.status in FINAL or self.model.can_hand_back(following), (action, following)


EVERY_ACTION = frozenset({*ACTIONS, "supplement", "pay", "delivered"})


def run_machine(
    world: World, templates: st.SearchStrategy[Plan], examples: int, steps: int,
    methods: tuple[str, ...] = ("counter", "postal"), citizen_end: str | None = None,
) -> Counter[str]:  # fmt: skip
    taken: Counter[str] = Counter()
    attributes = {
        "world": world, "templates": templates, "taken": taken, "methods": methods, "citizen_end": citizen_end,
    }  # fmt: skip
    machine = type("Machine", (EngineMachine,), attributes)
    run_state_machine_as_test(
        machine,
        settings=hsettings(
            max_examples=examples,
            stateful_step_count=steps,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    return taken


def test_demo_templates_pass_validation() -> None:
    assert len(DEMO_SHAPES) >= 2
    for shape in DEMO_SHAPES:
        assert problems_of(shape) == [], shape
    # the "4 tại chỗ" kind: one step at the desk for the delegation role, valid under rule 8 too
    on_the_spot = [shape for shape in DEMO_SHAPES if any(role == ON_THE_SPOT_ROLE for _, _, role, _ in shape)]
    assert on_the_spot, "no demo template of the 4 tại chỗ kind"
    for shape in on_the_spot:
        assert problems_of(shape, on_the_spot=True) == [], shape


def test_every_demo_template(world: World) -> None:
    taken: Counter[str] = Counter()
    for shape in DEMO_SHAPES:
        taken += run_machine(world, st.just(shape), examples=6, steps=12)
    # transfer: no demo step lists it where the next step is at another unit
    assert EVERY_ACTION - {"transfer"} <= set(taken), taken


def test_random_valid_templates(world: World) -> None:
    taken = run_machine(world, valid_random_templates(), examples=40, steps=12)
    # the demo run takes every other action; transfer needs a random template (a step before another unit)
    assert {"transfer", "forward", "send_back", "resolve", "return_result", "delivered"} <= set(taken), taken


def test_electronic_results(world: World) -> None:
    """An online result (services.dossier.eresult): the desk's ``return_result`` stays offered (a paper copy at the
    counter), and the citizen's first download or the worker's return after the set days also end it."""
    taken: Counter[str] = Counter()
    for end in (None, "downloaded", "auto_returned"):
        for shape in DEMO_SHAPES[::2]:  # half the shapes: the result's end does not depend on the steps before
            taken += run_machine(world, st.just(shape), examples=2, steps=12, methods=("online",), citizen_end=end)
    assert {"resolve", "downloaded", "auto_returned", "return_result"} <= set(taken), taken


def test_validation_refuses_what_the_engine_would_strand() -> None:
    # the head's forward into the desk's return step is never offered, so approve is fine ...
    assert problems_of(DEMO_SHAPES[0]) == []
    # ... but a working step that can only move into the return step strands the dossier
    stranding: Plan = (
        ("receive", None, "counter", ("forward",)),
        ("approve", None, "head", ("forward", "resolve")),
        ("check", None, "specialist", ("forward", "stop", "request_supplement")),
        ("return", None, "counter", ("return_result",)),
    )
    assert problems_of(stranding) == ["unresolvable_step"]
    # routing would start at a step listing no working action
    assert problems_of((("start", None, "counter", ("apologize",)), ("end", None, "head", ("resolve",)))) == [
        "dead_end_step"
    ]
    assert problems_of(
        (("receive", None, "counter", ("forward",)), ("hold", None, "counter", ("forward",)),
         ("approve", None, "head", ("resolve", "return_result")))
    ) == []  # fmt: skip


def test_a_dossier_stranded_before_the_rule_is_offered_the_way_back(world: World) -> None:
    """A dossier moved to the desk's return step while processing (as forward did at "approve") gets out."""
    machine = type("Machine", (EngineMachine,), {"world": world, "templates": st.nothing(), "taken": Counter()})()
    try:
        shape = next(s for s in DEMO_SHAPES if [code for code, *_ in s] == ["receive", "appraise", "approve", "return"])
        world.run(machine._route(shape))
        dossier = machine.dossier
        assert dossier is not None
        dossier.current_step_position = 4  # where the old engine's forward left it
        counter = next(a for a in world.actors if a.agency_id == world.ward.id and a.has_any("counter"))
        offered = world.run(allowed_actions(world.session, dossier, counter))
        assert offered == ["send_back", "apologize", "withdraw"]
        body = TransitionIn(action="send_back", reason="Chuyển lại để ký duyệt")
        world.run(transition(world.session, dossier, body, counter, now=START + timedelta(hours=1), policy=POLICY))
        assert (dossier.status, dossier.current_step_position) == ("processing", 3)  # back at "approve"
        head = next(a for a in world.actors if a.agency_id == dossier.current_agency_id and a.has_any("head"))
        assert "resolve" in world.run(allowed_actions(world.session, dossier, head))
        assert "forward" not in world.run(allowed_actions(world.session, dossier, head))
    finally:
        machine.teardown()
