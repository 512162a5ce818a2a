package io.switchboard.router.sla;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The SLA clocks of one conversation, as stored on it (subdocument {@code sla}).
 *
 * @param policy the policy of the first-response clock (what the queue shows)
 * @param closed earlier cycles this recompute found finished and replaced (next response cycles that ended while
 *               the tracker lagged behind), for the outcome record; not stored on the conversation
 */
public record SlaState(String policy, Clock firstResponse, Clock nextResponse, Clock resolution, List<Clock> closed) {

    public static final SlaState NONE = new SlaState(null, null, null, null);

    public SlaState {
        closed = closed == null ? List.of() : List.copyOf(closed);
    }

    public SlaState(String policy, Clock firstResponse, Clock nextResponse, Clock resolution) {
        this(policy, firstResponse, nextResponse, resolution, List.of());
    }

    /**
     * One metric's current cycle.
     *
     * @param cycle         identifies the cycle: {@code 1} for first response and resolution (reopening continues
     *                      it), the epoch millisecond the customer started waiting for next response
     * @param configVersion configuration in force when this cycle started (a change applies to later cycles)
     * @param elapsed       business time counted before {@code runningSince} (resolution pauses)
     * @param runningSince  null while paused or stopped
     * @param dueAt         deadline while running, the deadline that applied once stopped, null while paused
     * @param warnAt        when the warning fires (null: no warning, or paused)
     * @param breached      true once the deadline passed (fired) or when stopped late
     * @param businessTime  when stopped: business time the clock ran
     * @param wallTime      when stopped: wall time from start to stop
     */
    public record Clock(SlaMetric metric, String cycle, long configVersion, String policy, Duration target,
                        Instant startedAt, Duration elapsed, Instant runningSince, Instant dueAt, Instant warnAt,
                        Instant stoppedAt, boolean breached, Duration businessTime, Duration wallTime) {

        public boolean running() {
            return runningSince != null && stoppedAt == null;
        }

        public boolean stopped() {
            return stoppedAt != null;
        }

        Clock withBreached() {
            return new Clock(metric, cycle, configVersion, policy, target, startedAt, elapsed, runningSince, dueAt, warnAt,
                    stoppedAt, true, businessTime, wallTime);
        }
    }

    public Clock clock(SlaMetric metric) {
        switch (metric) {
            case FIRST_RESPONSE:
                return firstResponse;
            case NEXT_RESPONSE:
                return nextResponse;
            default:
                return resolution;
        }
    }

    public List<Clock> clocks() {
        List<Clock> out = new ArrayList<>(3);
        for (Clock c : new Clock[]{firstResponse, nextResponse, resolution}) {
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    /** The earliest deadline of a running clock: what the queue sorts by. */
    public Instant nextDueAt() {
        Instant min = null;
        for (Clock c : clocks()) {
            if (c.running() && c.dueAt() != null && (min == null || c.dueAt().isBefore(min))) {
                min = c.dueAt();
            }
        }
        return min;
    }

    /** A timer: warning or breach of one metric cycle, due at {@code fireAt}. */
    public record Timer(String conversationId, SlaMetric metric, String cycle, Kind kind, Instant fireAt, Instant dueAt,
                        String policy) {

        public enum Kind {
            WARNING("warning"), BREACH("breach");

            private final String wire;

            Kind(String wire) {
                this.wire = wire;
            }

            public String wire() {
                return wire;
            }
        }

        /** Unique per conversation, metric, cycle and kind: the exactly-once key. */
        public String key() {
            return conversationId + ":" + metric.wire() + ":" + cycle + ":" + kind.wire();
        }
    }

    /** Timers of the running clocks. */
    public List<Timer> timers(String conversationId) {
        List<Timer> out = new ArrayList<>();
        for (Clock c : clocks()) {
            if (!c.running() || c.dueAt() == null) {
                continue;
            }
            if (c.warnAt() != null) {
                out.add(new Timer(conversationId, c.metric(), c.cycle(), Timer.Kind.WARNING, c.warnAt(), c.dueAt(), c.policy()));
            }
            out.add(new Timer(conversationId, c.metric(), c.cycle(), Timer.Kind.BREACH, c.dueAt(), c.dueAt(), c.policy()));
        }
        return out;
    }
}
