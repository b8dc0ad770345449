"""Provides the contact centre on a SimPy clock: skill queues, agent teams, shifts, abandonment, callbacks.

Only contacts that need a human arrive here. Speed comes from doing per contact only what depends on shared
state, with as few SimPy events as possible:

* a contact's abandonment moment is computed once when it joins the queue (sandbox.model.frustration) and
  kept in a deadline heap; deadlines due are settled, in time order, before every event ("lazy
  abandonment"), and queue entries of contacts that have left are skipped when they reach the head;
* a service is one Timeout whose callback frees the agent's slot; there is no process per customer;
* agents are interchangeable within a team, kept in sets by how many chat slots they have in use, so
  finding the least-loaded agent is O(concurrency).

Voice calls take a whole agent; chats take one of ``concurrency`` slots. Occupancy is measured in slots.

Virtual waiting time (the wait a customer would have had if it never left) comes from "ghosts": a contact that
leaves the queue unserved stays in its queue's heap, takes no agent, and its virtual wait ends when an agent
free for its queue finds it at the head. For one queue this is exact; with several queues an agent settles the
ghosts at the heads of the queues it looks at, whichever contact it then takes.

Routing (scenario agents.routing, agents.groups.*.overflow_after): an arriving contact goes to a free agent of
the groups that take its queue at once, chosen by group order, longest idle or at random; a group with an
overflow delay for the queue takes the head only once it has waited that long (a timer per delay wakes a free
agent of that group then); a freed agent chooses among its queues by priority, skill order or oldest head.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from itertools import count
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import simpy
from simpy.events import Timeout

from sandbox.metrics.ledger import Ledger, Totals
from sandbox.metrics.monitors import Level
from sandbox.model.outcomes import Outcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.engine.plan import Plan

WAITING, GONE, GHOST = 0, 1, 2  # GHOST: left unserved, still in the heap until its virtual wait is settled
SERVED = int(Outcome.SERVED)  # a plain int: the enum's attribute lookup is measurable on the per-contact path
ABANDON, OFFER, MESSAGE = 0, 1, 2  # what a deadline does
EPSILON = 1e-9  # minutes: a timer due at enq + delay has waited the delay, whatever the rounding
_filing = count()  # the order agents were filed as free in, for longest-idle selection


class Contact:
    """A contact in the human stage; its static attributes stay in its cohort's arrays (row ``index``)."""

    __slots__ = ("budget", "cohort", "deadline", "enq", "f", "handle", "head", "home", "index", "line", "priority",
                 "queue", "state", "transfers", "u_accept", "waited")

    def __init__(self, cohort: Any, index: int, queue: Queue, f: float, budget: float, handle: float,
                 priority: int, head: float, u_accept: float, home: Queue | None = None):
        self.cohort, self.index, self.queue = cohort, index, queue
        self.f, self.budget, self.handle = f, budget, handle
        self.priority, self.head, self.u_accept = priority, head, u_accept
        self.home = home  # the queue it belongs in, when the bot sent it to another intent's (misrecognised)
        self.state = WAITING
        self.enq = 0.0
        self.waited = 0.0  # in queues it has already left by a transfer
        self.transfers = 0
        self.deadline = math.inf
        self.line = False  # holds one of its channel's lines (ChannelSpec.lines)


class Queue:
    """Contacts waiting for one skill on one channel, ordered by (priority, head-start-adjusted time)."""

    __slots__ = ("channel", "delays", "first", "heap", "live", "mean_handle", "teams", "threshold", "voice",
                 "waits")

    def __init__(self, channel: int, voice: bool, mean_handle: float, threshold: float):
        self.channel, self.voice, self.mean_handle, self.threshold = channel, voice, mean_handle, threshold
        self.heap: list[tuple[int, float, int, Contact]] = []
        self.live = 0
        self.teams: list[Team] = []  # every group that serves it, in group order
        self.waits: list[float] = []  # each team's overflow delay for this queue (0: at once)
        self.first: list[Team] = []  # the teams that take it at once
        self.delays: list[float] = []  # the distinct positive delays: a timer each for every contact queued

    def head(self) -> tuple[int, float, int, Contact] | None:
        heap = self.heap
        while heap and heap[0][3].state != WAITING:
            heapq.heappop(heap)  # lazy removal of contacts that already left (a ghost's virtual wait is censored)
        return heap[0] if heap else None


class Agent:
    # serves_out: on duty when humans closed under at_closing "serve", so keeps taking the queue until it is
    # empty; an agent whose shift ended earlier in the day only finishes what it holds.
    # chats, since, version: its chats in conversation when their speed follows its load (Team.shares), when
    # their remaining work was last brought up to date, and which scheduled end is still the current one.
    __slots__ = ("chats", "filed", "leaving", "load", "serves_out", "since", "team", "version")

    def __init__(self, team: Team):
        self.team, self.load, self.leaving, self.serves_out = team, 0, False, False
        self.filed = 0  # when it was last filed as free (an order, not a time): longest idle is the smallest
        self.chats: list[list[Any]] = []  # [solo work left, contact, answered at, wait, F at answer]
        self.since, self.version = 0.0, 0


class Team:
    """The agents of one group on duty now."""

    __slots__ = ("acw", "calm", "conc", "cost", "duty", "free", "full", "index", "leaving", "plain", "present",
                 "queues", "routes", "shares", "slowdown")

    def __init__(self, conc: int, slowdown: float, acw: float, cost: float, calm: float, duty: Level,
                 shares: bool = False):
        self.conc, self.slowdown, self.acw, self.cost, self.calm = conc, slowdown, acw, cost, calm
        self.shares = shares  # chat speed follows the current load (slowdown_follows_load)
        # Every agent on duty is in exactly one place: free[slots in use], full, or leaving. These are dicts
        # used as ordered sets: a set's pop order follows memory addresses, which would make runs irreproducible.
        self.free: list[dict[Agent, None]] = [{} for _ in range(conc)]
        self.full: dict[Agent, None] = {}
        self.present = 0
        self.leaving: dict[Agent, None] = {}
        self.queues: list[Queue] = []
        self.routes: list[tuple[Queue, float]] = []  # its queues in the order it looks at them, with their delay
        self.duty = duty  # agents on duty, time-weighted (for cost)
        self.index = 0  # its place in plan.groups: the ledger's group column (each group's occupancy)
        self.plain = True  # priority queue selection and no overflow delay: _pull's lean loop

    def file(self, agent: Agent) -> None:
        if not agent.leaving:
            (self.free[agent.load] if agent.load < self.conc else self.full)[agent] = None

    def unfile(self, agent: Agent) -> None:
        if not agent.leaving:
            (self.free[agent.load] if agent.load < self.conc else self.full).pop(agent, None)

    def pick_to_send_home(self) -> Agent | None:
        """Idle agents first, then the least loaded, so as few contacts as possible hold a shift open."""
        for level in self.free:
            if level:
                return level.popitem()[0]
        return self.full.popitem()[0] if self.full else None

    def take(self, voice: bool) -> Agent | None:
        """An agent who can start a contact now: idle for voice, least loaded for chat."""
        if voice:
            return self.free[0].popitem()[0] if self.free[0] else None
        for level in self.free:
            if level:
                return level.popitem()[0]
        return None

    def longest_idle(self, voice: bool) -> tuple[int, int, Agent] | None:
        """(chats held, filing order, agent) of the agent free longest at the lowest load; not taken out."""
        for load, level in enumerate(self.free[:1] if voice else self.free):
            if level:
                agent = next(iter(level))  # dicts keep filing order: the first is free longest
                return load, agent.filed, agent
        return None

    def can_take(self, voice: bool) -> int:
        """How many of its agents could start a contact now."""
        return len(self.free[0]) if voice else sum(len(level) for level in self.free)


class StampingTeam(Team):
    """A team that notes the order its agents were filed as free in, for longest-idle selection (a class of its
    own, so the default path pays nothing for it)."""

    __slots__ = ()

    def file(self, agent: Agent) -> None:
        if not agent.leaving:
            agent.filed = next(_filing)
        super().file(agent)


class Centre:
    """The human side of the simulation."""

    def __init__(self, env: simpy.Environment, plan: Plan, ledger: Ledger, totals: Totals,
                 on_abandon: Callable[[Contact, float], None], rng: np.random.Generator | None = None,
                 on_refuse: Callable[[Contact, float], None] | None = None):
        """``rng``: the routing stream, drawn from only under agent_selection random; ``on_abandon`` and
        ``on_refuse`` hear of a contact that gave up waiting, or was blocked or turned away (it may come back)."""
        self.env, self.plan, self.ledger, self.totals = env, plan, ledger, totals
        self.on_abandon = on_abandon
        self.on_refuse = on_refuse
        self.frustration = plan.frustration
        self.closing = plan.at_closing
        self.capacity = plan.queue_capacity
        self.lines = plan.lines  # by channel
        self.message_after = plan.message_after
        self.warm_up = plan.start < 0
        self.limited = any(n is not None for n in plan.lines)
        self.on_line = [0] * len(plan.channels)  # lines held by contacts waiting or in a transfer
        self.line_ends: list[list[float]] = [[] for _ in plan.channels]  # when services holding a line end
        self.virtual = [0.0, 0.0, 0.0]  # queue episodes with a settled virtual wait, their sum, within T
        width = plan.interval
        self.staffed = Level(plan.start, plan.end, width)  # slots on duty
        self.on_duty = Level(plan.start, plan.end, width)  # agents on duty
        self.is_open = False
        self.waiting = 0
        self.deadlines: list[tuple[float, int, Contact, int]] = []
        self.seq = count()
        self.callbacks: deque[tuple[float, Contact, Queue]] = deque()
        self.transferring: dict[Contact, None] = {}  # passed on by an agent, not yet in their own queue
        self._finished = self._finish  # one bound method, not a new one per service
        channels = plan.channels
        routing = plan.scenario.agents.routing
        self.selection = routing.agent_selection
        self.in_order = self.selection == "group_order"
        kind = StampingTeam if self.selection == "longest_idle" else Team
        self.teams = [kind(g.concurrency, g.spec.concurrency_slowdown, g.spec.after_contact_work, g.spec.hourly_cost,
                           g.spec.deescalation, Level(plan.start, plan.end, width), g.spec.slowdown_follows_load)
                      for g in plan.groups]
        self.rng = rng
        self._overflow_ended = self._overflow_due
        for index, team in enumerate(self.teams):
            team.index = index
        self.sharing: dict[Agent, None] = {}  # agents holding chats whose speed follows their load
        self._chat_ended = self._chat_end
        # Paid: the scheduled agents (availability < 1 takes contacts with fewer), over 1 − shrinkage.
        self.paid_per_productive = [1 / ((1 - g.spec.shrinkage) * g.spec.availability) for g in plan.groups]
        # One queue per (skill, channel); queue_of[intent × channels + channel] finds a contact's queue.
        by_key: dict[tuple[str, str], Queue] = {}
        self.queue_of: list[Queue] = []
        for skill in plan.skill:
            for c, channel in enumerate(channels):
                key = (skill, channel)
                if key not in by_key:
                    queue = by_key[key] = Queue(c, channel == "voice", plan.mean_handle.get(key, 0.0),
                                                float(plan.threshold[c]))
                    for g, team in zip(plan.groups, self.teams, strict=True):
                        if skill in g.skills and channel in g.channels:
                            delay = float(g.spec.overflow_after.get(skill, 0.0))
                            queue.teams.append(team)
                            queue.waits.append(delay)
                            if delay == 0:
                                queue.first.append(team)
                            team.queues.append(queue)
                    queue.delays = sorted({d for d in queue.waits if d > 0})
                self.queue_of.append(by_key[key])
        self.queues = list(by_key.values())
        self.queue_selection = routing.queue_selection
        for g, team in zip(plan.groups, self.teams, strict=True):
            skills, served = g.spec.skills, [str(c) for c in g.spec.channels]
            routes = [((skills.index(skill), served.index(channel)), queue, float(g.spec.overflow_after.get(skill, 0)))
                      for (skill, channel), queue in by_key.items() if team in queue.teams]
            if self.queue_selection == "skill_order":
                routes.sort(key=lambda route: route[0])
            team.routes = [(queue, delay) for _, queue, delay in routes]
            team.plain = self.queue_selection == "priority" and not any(delay for _, delay in team.routes)

    # --- staffing and opening hours ------------------------------------------------------------------

    def apply(self, is_open: bool, counts: dict[int, int]) -> None:
        """A timeline point: open or close the human side and set headcounts."""
        now = self.env.now
        self.expire(now)
        was_open, self.is_open = self.is_open, is_open
        if was_open and not is_open and self.closing != "serve":
            self._close_queues(now)
        serve_out = was_open and not is_open and self.closing == "serve"
        for index, target in counts.items():
            self._set_headcount(self.teams[index], target, now, serve_out)

    def _close_queues(self, now: float) -> None:
        for queue in self.queues:
            while (entry := queue.head()) is not None:
                contact = entry[3]
                if self.closing == "callback":
                    self._to_callback(contact, now)
                else:
                    if self.on_refuse is not None:
                        self.on_refuse(contact, now)
                    self._leave(contact, now, Outcome.TURNED_AWAY)

    def _set_headcount(self, team: Team, target: int, now: float, serve_out: bool = False) -> None:
        """Send agents home (busy ones after what they hold; with ``serve_out``, after the queue) or bring
        them in."""
        while team.present - len(team.leaving) > target:
            agent = team.pick_to_send_home()
            if agent is None:
                break
            if agent.load == 0:
                self._dismiss(team, agent, now)
            else:  # finishes what they hold first
                agent.leaving, agent.serves_out = True, serve_out
                team.leaving[agent] = None
        while team.present - len(team.leaving) < target:
            if team.leaving:  # keep someone who was about to leave rather than bring in a new agent
                agent = team.leaving.popitem()[0]
                agent.leaving = agent.serves_out = False
            else:
                agent = Agent(team)
                team.present += 1
                team.duty.add(now, 1)
                self.on_duty.add(now, 1)
                self.staffed.add(now, team.conc)
            self._pull(agent, now)

    def _dismiss(self, team: Team, agent: Agent, now: float) -> None:
        team.present -= 1
        team.leaving.pop(agent, None)
        team.duty.add(now, -1)
        self.on_duty.add(now, -1)
        self.staffed.add(now, -team.conc)

    # --- the queue -------------------------------------------------------------------------------------

    def arrive(self, contact: Contact) -> None:
        """A contact needs a human now."""
        now = self.env.now
        if self.deadlines and self.deadlines[0][0] <= now:
            self.expire(now)
        queue = contact.queue
        contact.enq = now
        if not self.is_open:
            if self.closing == "callback":
                self._promise_callback(contact, now)
            else:
                self._refuse(contact, now, Outcome.TURNED_AWAY)
            return
        if self.limited and not contact.line:  # a contact back from a transfer still holds its line
            limit = self.lines[queue.channel]
            if limit is not None:
                if self._lines_in_use(queue.channel, now) >= limit:
                    self._refuse(contact, now, Outcome.BLOCKED)
                    return
                contact.line = True
                self.on_line[queue.channel] += 1
        if queue.live == 0:
            agent = None
            if self.in_order:  # inline: the default, on every arrival
                for team in queue.first:
                    agent = team.take(queue.voice)
                    if agent is not None:
                        break
            else:
                agent = self._free_agent(queue.first, queue.voice)
            if agent is not None:
                self._start(contact, agent, now)
                agent.team.file(agent)
                return
        if self.capacity is not None and self.waiting >= self.capacity:
            self._refuse(contact, now, Outcome.BLOCKED)
            return
        cb = contact.cohort.rules.callback  # the rules of the day the contact came
        if cb.predicted_wait is not None and contact.u_accept < cb.accept \
                and self._predicted_wait(queue) > cb.predicted_wait:
            self._promise_callback(contact, now)
            return
        seq = next(self.seq)
        heapq.heappush(queue.heap, (-contact.priority, now - contact.head, seq, contact))
        queue.live += 1
        self.waiting += 1
        due = contact.deadline = now + self.frustration.abandonment_delay(contact.f, contact.budget)
        kind = ABANDON
        if self.message_after is not None and now + self.message_after < due:
            due, kind = now + self.message_after, MESSAGE
        if cb.after_wait is not None and now + cb.after_wait < due:
            due, kind = now + cb.after_wait, OFFER
        if due < math.inf:
            heapq.heappush(self.deadlines, (due, seq, contact, kind))
        if queue.delays:  # overflow groups may take it from then on
            for delay in queue.delays:
                Timeout(self.env, delay, contact).callbacks.append(self._overflow_ended)

    def _free_agent(self, teams: list[Team], voice: bool) -> Agent | None:
        """A free agent of these teams, taken out of the free sets, chosen by the routing's agent selection."""
        if self.selection == "group_order":
            for team in teams:
                agent = team.take(voice)
                if agent is not None:
                    return agent
            return None
        if self.selection == "longest_idle":
            best: tuple[int, int, Agent] | None = None
            for team in teams:
                candidate = team.longest_idle(voice)
                if candidate is not None and (best is None or candidate[:2] < best[:2]):
                    best = candidate
            if best is None:
                return None
            load, _, agent = best
            del agent.team.free[load][agent]
            return agent
        free = [team.can_take(voice) for team in teams]  # random: each team in proportion to its free agents
        total = sum(free)
        if total == 0:
            return None
        assert self.rng is not None
        pick = self.rng.random() * total
        for team, n in zip(teams, free, strict=True):
            if pick < n:
                return team.take(voice)
            pick -= n
        return next(team for team, n in zip(teams, free, strict=True) if n).take(voice)  # rounding at the top

    def _overflow_due(self, event: simpy.Event) -> None:
        """A queued contact has waited one of its queue's overflow delays: a free agent of a group that takes it
        from now on looks at its queues (it may be a ghost by now, whose virtual wait that agent then ends)."""
        contact = cast(Contact, event.value)
        now = self.env.now
        if self.deadlines and self.deadlines[0][0] <= now:
            self.expire(now)
        queue = contact.queue
        if contact.state == GONE or now - contact.enq < queue.delays[0] - EPSILON:
            return  # served, or back in a queue by a transfer since (its own timers are set)
        waited = now - contact.enq + EPSILON
        teams = [team for team, delay in zip(queue.teams, queue.waits, strict=True) if 0 < delay <= waited]
        while contact.state != GONE:
            agent = self._free_agent(teams, queue.voice)
            if agent is None:
                return
            load = agent.load
            self._pull(agent, now)
            if agent.load == load:  # it found nothing it may take yet (a younger head in front)
                return

    def _next_deadline(self, contact: Contact) -> tuple[float, int]:
        """When a waiting contact next leaves unless served, and how: it abandons, or leaves a message."""
        after = self.message_after
        if after is not None and contact.enq + after < contact.deadline:
            return contact.enq + after, MESSAGE
        return contact.deadline, ABANDON

    def _lines_in_use(self, channel: int, now: float) -> int:
        ends = self.line_ends[channel]
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        return self.on_line[channel] + len(ends)

    def _release_line(self, contact: Contact) -> None:
        contact.line = False
        self.on_line[contact.queue.channel] -= 1

    def _virtual_wait(self, contact: Contact, wait: float) -> None:
        """A queue episode's virtual wait is known: it ended in service, a transfer, or as a ghost reached."""
        # Like every KPI, nothing of the warm-up's contacts (the array lookup only when there is a warm-up).
        if not self.warm_up or contact.cohort.arrive[contact.index] >= 0:
            v = self.virtual
            v[0] += 1
            v[1] += wait
            v[2] += wait <= contact.queue.threshold

    def _predicted_wait(self, queue: Queue) -> float:
        """(position + 1) × mean handle time / slots serving this queue: what a wait announcement would say."""
        slots = sum((t.present - len(t.leaving)) * (1 if queue.voice else t.conc) for t in queue.teams)
        return math.inf if slots == 0 else (queue.live + 1) * queue.mean_handle / slots

    def _promise_callback(self, contact: Contact, now: float) -> None:
        """A callback instead of joining the queue: not counted as waiting in it (ASA, service level)."""
        if contact.line:
            self._release_line(contact)
        self.ledger.add(contact.cohort, contact.index, Outcome.CALLBACK, now, False, math.nan, contact.f,
                        transfers=contact.transfers)
        self.callbacks.append((now, contact, contact.home or contact.queue))

    def _refuse(self, contact: Contact, now: float, outcome: Outcome) -> None:
        if contact.line:
            self._release_line(contact)
        if self.on_refuse is not None:
            self.on_refuse(contact, now)
        f = self.frustration.after_leaving_unresolved(contact.f)
        self.ledger.add(contact.cohort, contact.index, outcome, now, False, math.nan, f, transfers=contact.transfers)

    def _leave(self, contact: Contact, t: float, outcome: Outcome) -> None:
        """A waiting contact leaves the queue at t without being served (its ghost stays in the queue)."""
        contact.state = GHOST
        if contact.line:
            self._release_line(contact)
        contact.queue.live -= 1
        self.waiting -= 1
        wait = t - contact.enq
        f = self.frustration.after_wait(contact.f, wait)
        if outcome != Outcome.CALLBACK:  # a message, like an abandon, leaves the issue unresolved
            f = self.frustration.after_leaving_unresolved(f)
        self.ledger.add(contact.cohort, contact.index, outcome, t, True, wait + contact.waited, f,
                        transfers=contact.transfers)

    def _to_callback(self, contact: Contact, t: float) -> None:
        self._leave(contact, t, Outcome.CALLBACK)
        self.callbacks.append((t, contact, contact.home or contact.queue))

    def expire(self, now: float, strict: bool = False) -> None:
        """Settle, in time order, every abandonment and callback offer due by ``now``."""
        deadlines = self.deadlines
        while deadlines and (deadlines[0][0] < now if strict else deadlines[0][0] <= now):
            t, seq, contact, kind = heapq.heappop(deadlines)
            if contact.state != WAITING:
                continue
            if kind == OFFER:
                if contact.u_accept < contact.cohort.rules.callback.accept:
                    self._to_callback(contact, t)
                else:
                    due, kind = self._next_deadline(contact)
                    if due < math.inf:
                        heapq.heappush(deadlines, (due, seq, contact, kind))
                continue
            if kind == MESSAGE:
                self._leave(contact, t, Outcome.MESSAGE)
                continue
            self.on_abandon(contact, t)  # first: the ledger row records whether the customer will come back
            self._leave(contact, t, Outcome.ABANDONED_QUEUE)

    # --- service ---------------------------------------------------------------------------------------

    def _start(self, contact: Contact, agent: Agent, now: float) -> None:
        """Serve a contact; the agent is out of the free sets while this happens (the caller files it)."""
        team = agent.team
        if contact.home is not None and team not in contact.home.teams:
            self._transfer(contact, agent, now)
            return
        if contact.queue.voice:
            slots, handle = team.conc, contact.handle
        elif team.shares:
            self._start_chat(contact, agent, now)
            return
        else:
            slots, handle = 1, contact.handle * (1.0 + team.slowdown * agent.load)
        agent.load += slots
        wait = now - contact.enq
        self._virtual_wait(contact, wait)
        if contact.line:  # the line is held until the conversation ends (after-contact work needs none)
            contact.line = False
            self.on_line[contact.queue.channel] -= 1
            heapq.heappush(self.line_ends[contact.queue.channel], now + handle)
        busy = handle + team.acw
        answered = self.frustration.after_wait(contact.f, wait)
        f = self.frustration.after_service(answered, team.calm)
        self.ledger.add(contact.cohort, contact.index, SERVED, now + handle, True, wait + contact.waited, f, handle,
                        busy, slots, answered - f, contact.transfers, team.index)
        Timeout(self.env, busy, (agent, slots)).callbacks.append(self._finished)

    # --- chats whose speed follows the agent's load (processor sharing) ---------------------------------------

    def _start_chat(self, contact: Contact, agent: Agent, now: float) -> None:
        """A chat at an agent whose chats share its attention: how long it lasts is known only when its work is
        done, so it is recorded then (or at the end of the horizon)."""
        wait = now - contact.enq
        self._virtual_wait(contact, wait)
        agent.load += 1
        self._advance(agent, now)
        agent.chats.append([contact.handle, contact, now, wait, self.frustration.after_wait(contact.f, wait)])
        self.sharing[agent] = None
        self._reschedule(agent)

    @staticmethod
    def _speed(agent: Agent) -> float:
        """Each chat's progress per minute, relative to a chat alone: 1 / (1 + slowdown·(k − 1)) with k chats."""
        return 1.0 / (1.0 + agent.team.slowdown * (len(agent.chats) - 1))

    def _advance(self, agent: Agent, now: float) -> None:
        """Bring the agent's chats' remaining work up to now, at the speed of the load they had since."""
        if agent.chats:
            done = (now - agent.since) * self._speed(agent)
            for chat in agent.chats:
                chat[0] -= done
        agent.since = now

    def _reschedule(self, agent: Agent) -> None:
        """The next chat end at this agent's current speed; the end scheduled before is void (version)."""
        agent.version += 1
        if not agent.chats:
            self.sharing.pop(agent, None)
            return
        left = min(chat[0] for chat in agent.chats)
        Timeout(self.env, max(left, 0.0) / self._speed(agent), (agent, agent.version)).callbacks.append(
            self._chat_ended)

    def _chat_end(self, event: simpy.Event) -> None:
        agent, version = cast(tuple[Agent, int], event.value)
        if version != agent.version:  # a chat started or ended at this agent since: another end is scheduled
            return
        now = self.env.now
        if self.deadlines and self.deadlines[0][0] <= now:
            self.expire(now)
        self._advance(agent, now)
        chat = min(agent.chats, key=lambda c: c[0])
        agent.chats.remove(chat)
        self._reschedule(agent)
        self._record_chat(agent.team, chat, now)
        contact = chat[1]
        if contact.line:
            self._release_line(contact)
        if agent.team.acw > 0:
            Timeout(self.env, agent.team.acw, (agent, 1)).callbacks.append(self._finished)
        else:
            self._free(agent, 1, now)

    def _record_chat(self, team: Team, chat: list[Any], end: float) -> None:
        _, contact, start, wait, answered = chat
        handle = end - start
        f = self.frustration.after_service(answered, team.calm)
        self.ledger.add(contact.cohort, contact.index, SERVED, end, True, wait + contact.waited, f, handle,
                        handle + team.acw, 1, answered - f, contact.transfers, team.index)

    def _transfer(self, contact: Contact, agent: Agent, now: float) -> None:
        """An agent without the contact's skill takes it (the bot routed it to the wrong intent) and passes it
        to its own queue: agent and customer spend the transfer time; it is a handoff step (cold: the customer
        tells it all again), and the patience spent so far is gone."""
        team, transfer = agent.team, self.plan.transfer_time
        slots = team.conc if contact.queue.voice else 1
        agent.load += slots
        wait = now - contact.enq
        self._virtual_wait(contact, wait)
        self.ledger.add_busy(now, transfer, slots, team.index)
        contact.f = self.frustration.after_handover(self.frustration.after_wait(contact.f, wait),
                                                    contact.cohort.rules.bot.cold)
        contact.waited += wait + transfer
        contact.budget = max(0.0, contact.budget - wait)
        contact.transfers += 1
        assert contact.home is not None
        contact.queue, contact.home = contact.home, None
        self.transferring[contact] = None
        Timeout(self.env, transfer, (agent, slots)).callbacks.append(self._finished)
        Timeout(self.env, transfer, contact).callbacks.append(self._rejoin)

    def _rejoin(self, event: simpy.Event) -> None:
        contact = cast(Contact, event.value)
        del self.transferring[contact]
        contact.state = WAITING  # an agent took it off a queue (GONE): it queues anew
        self.arrive(contact)

    def _finish(self, event: simpy.Event) -> None:
        agent, slots = cast(tuple[Agent, int], event.value)  # what the service's Timeout carries
        self._free(agent, slots, self.env.now)

    def _free(self, agent: Agent, slots: int, now: float) -> None:
        """The agent's ``slots`` are free again: it takes more work, or goes home."""
        if self.deadlines and self.deadlines[0][0] <= now:
            self.expire(now)
        team = agent.team
        team.unfile(agent)
        agent.load -= slots
        if agent.leaving:
            if not self.is_open and agent.serves_out:  # the staff on duty at closing serve the queue out
                self._pull(agent, now)
            if agent.load == 0:
                self._dismiss(team, agent, now)
            return
        self._pull(agent, now)

    def _pull(self, agent: Agent, now: float) -> None:
        """The agent (out of the free sets) takes the most urgent compatible contacts, or a callback; then is
        filed as free again according to the slots left."""
        team = agent.team
        conc = team.conc
        while agent.load < conc:
            best: tuple[int, float, int, Contact] | None = None
            if team.plain:  # the most urgent head of its queues, none with a delay: the default, kept lean
                for queue in team.queues:
                    if queue.voice and agent.load:
                        continue
                    if queue.live == 0:
                        if queue.heap:
                            self._settle_ghosts(queue, now)
                        continue
                    head = self._settle_ghosts(queue, now)
                    if head is not None and (best is None or head < best):
                        best = head
            else:
                best = self._choose(team, agent, now)
            if best is None:
                break
            contact = best[3]
            heapq.heappop(contact.queue.heap)
            contact.state = GONE
            contact.queue.live -= 1
            self.waiting -= 1
            self._start(contact, agent, now)
        if agent.load == 0 and self.callbacks and self.is_open:
            self._call_back(agent, now)
        team.file(agent)

    def _choose(self, team: Team, agent: Agent, now: float) -> tuple[int, float, int, Contact] | None:
        """The contact an agent takes next under the routing's queue selection and its group's overflow delays."""
        selection = self.queue_selection
        best: tuple[int, float, int, Contact] | None = None
        for queue, delay in team.routes:
            if queue.voice and agent.load:
                continue
            if queue.live == 0:
                if queue.heap:
                    self._settle_ghosts(queue, now, delay)
                continue
            head = self._settle_ghosts(queue, now, delay)
            if head is None or (delay and now - head[3].enq < delay - EPSILON):
                continue  # an overflow group takes the head only once it has waited the delay
            if selection == "skill_order":
                return head
            if best is None or (head < best if selection == "priority" else
                                (head[3].enq, head[2]) < (best[3].enq, best[2])):  # oldest_head
                best = head
        return best

    def _settle_ghosts(self, queue: Queue, now: float, delay: float = 0.0) -> tuple[int, float, int, Contact] | None:
        """The queue's head, after the ghosts in front of it: an agent is free for them now, which ends their
        virtual waits (for an agent of an overflow group, only of ghosts that have waited its delay)."""
        heap = queue.heap
        while heap and (contact := heap[0][3]).state != WAITING:
            if delay and contact.state == GHOST and now - contact.enq < delay - EPSILON:
                return None
            heapq.heappop(heap)
            if contact.state == GHOST:
                contact.state = GONE
                self._virtual_wait(contact, now - contact.enq)
        return heap[0] if heap else None

    def _call_back(self, agent: Agent, now: float) -> None:
        """An idle agent with nothing live to take calls back the oldest customer it has the skill for."""
        team = agent.team
        index = next((i for i, (_, _, queue) in enumerate(self.callbacks) if team in queue.teams), None)
        if index is None:
            return
        contact = self.callbacks[index][1]
        del self.callbacks[index]
        agent.load = team.conc
        busy = contact.handle + team.acw
        self.ledger.add_busy(now, busy, team.conc, team.index)
        if now >= 0:  # like every KPI, callbacks made during the warm-up are not reported
            self.totals.add("callbacks_done", 1)
        Timeout(self.env, busy, (agent, team.conc)).callbacks.append(self._finished)

    # --- end of the horizon ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Settle what is due before the end, record who is still waiting, and close the monitors."""
        end = self.plan.end
        self.expire(end, strict=True)
        for queue in self.queues:
            while (entry := queue.head()) is not None:
                contact = entry[3]
                contact.state = GONE
                queue.live -= 1
                wait = end - contact.enq
                self.ledger.add(contact.cohort, contact.index, Outcome.IN_SYSTEM, end, True, wait + contact.waited,
                                self.frustration.after_wait(contact.f, wait), transfers=contact.transfers)
        for agent in self.sharing:  # chats in conversation: recorded with the end their current speed gives
            self._advance(agent, end)
            for chat in agent.chats:
                self._record_chat(agent.team, chat, end + max(chat[0], 0.0) / self._speed(agent))
        for contact in self.transferring:  # the horizon ended during their transfer
            self.ledger.add(contact.cohort, contact.index, Outcome.IN_SYSTEM, end, True, contact.waited, contact.f,
                            transfers=contact.transfers)
        self.totals.add("callbacks_pending", len(self.callbacks))
        for name, value in zip(("virtual_queued", "virtual_wait", "virtual_within_t"), self.virtual, strict=True):
            self.totals.add(name, value)
        # Staffing into the totals, so KPIs are computed from totals alone, never from the engine.
        t = self.totals
        t.series["staffed_area"] = np.array(self.staffed.close())
        t.series["on_duty_area"] = np.array(self.on_duty.close())
        for g, team in zip(self.plan.groups, self.teams, strict=True):  # each group's slots on duty, for its occupancy
            t.group_staffed[g.name] = np.array(team.duty.close()) * team.conc
        minutes = [sum(team.duty.close()) for team in self.teams]
        paid = [m * factor for m, factor in zip(minutes, self.paid_per_productive, strict=True)]
        t.add("agent_minutes", sum(minutes))
        t.add("paid_minutes", sum(paid))
        t.add("agent_cost", sum(m / 60 * team.cost for m, team in zip(paid, self.teams, strict=True)))
