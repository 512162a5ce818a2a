package io.switchboard.router.sla;

import java.time.Duration;
import java.time.Instant;
import java.util.function.LongFunction;

/**
 * Recomputes a conversation's SLA clocks from its timestamps and the clocks as last stored: plain
 * arithmetic, no clock of its own (the caller passes the time of the change it reacts to).
 *
 * <ul>
 *   <li>first response: from the first customer message to the first agent response;</li>
 *   <li>next response: from the customer's first message after an agent response ({@code awaitingSince})
 *       to the next agent response, one cycle per wait;</li>
 *   <li>resolution: from the first customer message to resolved; pending (and snoozed when the policy says
 *       so) pauses it, reopening continues it.</li>
 * </ul>
 * A conversation resolved while a response clock runs ends that clock at the resolution.
 */
public final class SlaEngine {

    private final LongFunction<SlaConfig> configs;
    private final double warnRatio;

    /**
     * @param configs   configuration by version ({@link Long#MIN_VALUE} asks for the current one)
     * @param warnRatio share of the target after which the warning fires (0.8); 0 or less: no warnings
     */
    public SlaEngine(LongFunction<SlaConfig> configs, double warnRatio) {
        this.configs = configs;
        this.warnRatio = warnRatio;
    }

    public static final long CURRENT = Long.MIN_VALUE;

    public SlaState recompute(SlaSubject s, SlaState previous, Instant at) {
        SlaState prev = previous == null ? SlaState.NONE : previous;
        SlaState.Clock first = firstResponse(s, prev.firstResponse());
        SlaState.Clock next = nextResponse(s, prev.nextResponse(), at);
        SlaState.Clock resolution = resolution(s, prev.resolution(), at);
        String policy = first != null ? first.policy() : resolution != null ? resolution.policy()
                : configs.apply(CURRENT).policyFor(s).name();
        java.util.List<SlaState.Clock> closed = new java.util.ArrayList<>();
        SlaState.Clock before = prev.nextResponse();
        if (before != null && !before.stopped() && (next == null || !next.cycle().equals(before.cycle()))) {
            // A new wait began before we saw the previous one answered: it ended with the agent's response
            // in between (or, failing that, when the new wait began).
            Instant agent = s.lastAgentMessageAt();
            Instant stop = agent != null && !agent.isBefore(before.startedAt()) ? agent
                    : next != null ? next.startedAt() : at;
            SlaConfig config = configFor(before, before.cycle());
            SlaPolicy p = config.policy(before.policy()) != null ? config.policy(before.policy()) : config.policyFor(s);
            closed.add(clock(SlaMetric.NEXT_RESPONSE, before.cycle(), before.configVersion(), p, before.target(),
                    before.startedAt(), Duration.ZERO, before.startedAt(), stop, before.breached()));
        }
        return new SlaState(policy, first, next, resolution, closed);
    }

    private SlaConfig configFor(SlaState.Clock prev, String cycle) {
        if (prev != null && prev.cycle().equals(cycle)) {
            SlaConfig c = configs.apply(prev.configVersion());
            if (c != null) {
                return c;
            }
        }
        return configs.apply(CURRENT);
    }

    private SlaState.Clock firstResponse(SlaSubject s, SlaState.Clock prev) {
        Instant start = s.firstCustomerMessageAt();
        if (start == null) {
            return prev;
        }
        String cycle = "1";
        SlaConfig config = configFor(prev, cycle);
        SlaPolicy policy = config.policyFor(s);
        Duration target = policy.target(s.priority(), SlaMetric.FIRST_RESPONSE);
        if (target == null) {
            return null;
        }
        Instant stop = s.firstResponseAt() != null ? s.firstResponseAt() : resolvedAt(s);
        return clock(SlaMetric.FIRST_RESPONSE, cycle, config.version(), policy, target, start, Duration.ZERO, start, stop,
                prev != null && prev.cycle().equals(cycle) && prev.breached());
    }

    private SlaState.Clock nextResponse(SlaSubject s, SlaState.Clock prev, Instant at) {
        Instant waiting = s.awaitingSince();
        boolean waitingAgain = s.firstResponseAt() != null && waiting != null && waiting.isAfter(s.firstResponseAt());
        if (waitingAgain) {
            String cycle = Long.toString(waiting.toEpochMilli());
            SlaConfig config = configFor(prev, cycle);
            SlaPolicy policy = config.policyFor(s);
            Duration target = policy.target(s.priority(), SlaMetric.NEXT_RESPONSE);
            if (target == null) {
                return null;
            }
            return clock(SlaMetric.NEXT_RESPONSE, cycle, config.version(), policy, target, waiting, Duration.ZERO, waiting,
                    resolvedAt(s), prev != null && prev.cycle().equals(cycle) && prev.breached());
        }
        if (prev == null || prev.stopped()) {
            return prev;
        }
        // The wait we were timing is over: answered by the latest agent response, or ended by resolving.
        Instant stop = s.lastAgentMessageAt() != null && !s.lastAgentMessageAt().isBefore(prev.startedAt())
                ? s.lastAgentMessageAt() : resolvedAt(s) != null ? resolvedAt(s) : at;
        SlaConfig config = configFor(prev, prev.cycle());
        SlaPolicy policy = config.policy(prev.policy()) != null ? config.policy(prev.policy()) : config.policyFor(s);
        return clock(SlaMetric.NEXT_RESPONSE, prev.cycle(), prev.configVersion(), policy, prev.target(), prev.startedAt(),
                Duration.ZERO, prev.startedAt(), stop, prev.breached());
    }

    private SlaState.Clock resolution(SlaSubject s, SlaState.Clock prev, Instant at) {
        Instant start = s.firstCustomerMessageAt();
        if (start == null) {
            return prev;
        }
        String cycle = "1";
        SlaConfig config = configFor(prev, cycle);
        SlaPolicy policy = config.policyFor(s);
        Duration target = policy.target(s.priority(), SlaMetric.RESOLUTION);
        if (target == null) {
            return null;
        }
        BusinessCalendar cal = policy.calendar();
        String status = s.status();
        boolean resolved = "resolved".equals(status) || "merged".equals(status); // merged: closed at mergedAt (= resolvedAt)
        boolean paused = "pending".equals(status) || ("snoozed".equals(status) && policy.snoozedPauses());
        boolean breached = prev != null && prev.cycle().equals(cycle) && prev.breached();
        Duration elapsed;
        Instant runningSince;
        Instant stoppedAt = null;
        if (prev == null || !prev.cycle().equals(cycle)) {
            // First sight of this clock: it ran from the start until now's state began.
            Instant end = resolved ? orAt(s.resolvedAt(), at) : at;
            if (resolved || paused) {
                elapsed = cal.between(start, end);
                runningSince = null;
                stoppedAt = resolved ? end : null;
            } else {
                elapsed = Duration.ZERO;
                runningSince = start;
            }
        } else {
            elapsed = prev.elapsed() == null ? Duration.ZERO : prev.elapsed();
            runningSince = prev.runningSince();
            if (resolved) {
                if (prev.stopped()) {
                    stoppedAt = prev.stoppedAt();
                } else {
                    stoppedAt = orAt(s.resolvedAt(), at);
                    if (runningSince != null) {
                        elapsed = elapsed.plus(cal.between(runningSince, stoppedAt));
                    }
                    runningSince = null;
                }
            } else if (paused) {
                if (runningSince != null) {
                    elapsed = elapsed.plus(cal.between(runningSince, at));
                    runningSince = null;
                }
            } else if (runningSince == null) {
                // resumed or reopened: the clock continues from here
                runningSince = at.isBefore(start) ? start : at;
            }
        }
        Instant dueAt;
        Instant warnAt = null;
        Duration left = target.minus(elapsed);
        if (runningSince != null) {
            dueAt = cal.plus(runningSince, left.isNegative() ? Duration.ZERO : left);
            warnAt = warnAt(cal, runningSince, target, elapsed);
        } else if (stoppedAt != null) {
            dueAt = prev != null && prev.dueAt() != null ? prev.dueAt() : cal.plus(start, target);
            breached = breached || elapsed.compareTo(target) > 0;
        } else {
            dueAt = null;
        }
        Duration business = stoppedAt != null ? elapsed : null;
        Duration wall = stoppedAt != null ? Duration.between(start, stoppedAt) : null;
        return new SlaState.Clock(SlaMetric.RESOLUTION, cycle, config.version(), policy.name(), target, start, elapsed,
                runningSince, dueAt, warnAt, stoppedAt, breached, business, wall);
    }

    /** A clock that runs from {@code start} without pauses until {@code stop} (null: still running). */
    private SlaState.Clock clock(SlaMetric metric, String cycle, long version, SlaPolicy policy, Duration target,
                                 Instant startedAt, Duration elapsed, Instant runningSince, Instant stop, boolean breached) {
        BusinessCalendar cal = policy.calendar();
        Instant dueAt = cal.plus(startedAt, target);
        if (stop == null) {
            return new SlaState.Clock(metric, cycle, version, policy.name(), target, startedAt, elapsed, runningSince, dueAt,
                    warnAt(cal, startedAt, target, Duration.ZERO), null, breached, null, null);
        }
        Duration business = cal.between(startedAt, stop);
        return new SlaState.Clock(metric, cycle, version, policy.name(), target, startedAt, business, null, dueAt, null, stop,
                breached || stop.isAfter(dueAt), business, Duration.between(startedAt, stop));
    }

    private Instant warnAt(BusinessCalendar cal, Instant runningSince, Duration target, Duration elapsed) {
        if (warnRatio <= 0) {
            return null;
        }
        Duration lead = Duration.ofMillis((long) (target.toMillis() * warnRatio)).minus(elapsed);
        return cal.plus(runningSince, lead.isNegative() ? Duration.ZERO : lead);
    }

    private static Instant resolvedAt(SlaSubject s) {
        return "resolved".equals(s.status()) || "merged".equals(s.status()) ? s.resolvedAt() : null;
    }

    private static Instant orAt(Instant t, Instant at) {
        return t != null ? t : at;
    }
}
