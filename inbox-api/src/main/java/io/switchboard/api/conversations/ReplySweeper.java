package io.switchboard.api.conversations;

import io.switchboard.api.PeriodicTask;
import io.switchboard.store.InboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Resolves replies left pending by a process that stopped between storing them and the broker's ack
 * of their command ({@link InboxStore#SENDS_IN_FLIGHT}): without this they would stay pending for ever,
 * since no command exists that an adapter could send and report on. Several instances may sweep at
 * once: marking is a conditional update and the announcement has a fixed event id.
 */
@Component
class ReplySweeper implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ReplySweeper.class);
    /**
     * How old an unsettled send must be to count as cut off: a live request settles its send within
     * the command's 15-second wait, so two minutes leave room for a slow store and a long pause.
     */
    static final Duration GRACE = Duration.ofMinutes(2);
    private static final int BATCH = 100;

    private final InboxStore store;
    private final Replies replies;
    private final Clock clock;
    private final PeriodicTask rounds;

    ReplySweeper(InboxStore store, Replies replies, ObjectProvider<Clock> clock) {
        this.store = store;
        this.replies = replies;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.rounds = new PeriodicTask("reply-sweeper", Duration.ofSeconds(30), () -> sweep(this.clock.instant()));
    }

    /** Settles the sends started before {@code now} minus the grace; returns how many it settled. */
    int sweep(Instant now) {
        int settled = 0;
        for (InboxStore.SendInFlight send : store.sendsStartedBefore(now.minus(GRACE), BATCH)) {
            try {
                if (!replies.settleCutOff(send)) {
                    break; // the broker is unavailable: the rest wait for the next round too
                }
                settled++;
            } catch (RuntimeException e) {
                // one that cannot be settled (a store error) must not hold back the ones after it for ever
                log.warn("cut-off reply {} of conversation {} not settled: {}", send.messageId(), send.conversationId(), e.toString());
            }
        }
        if (settled > 0) {
            log.warn("{} replies cut off before their command was queued are marked failed", settled);
        }
        return settled;
    }

    @Override
    public void start() {
        rounds.start(null);
    }

    @Override
    public void stop() {
        rounds.stop();
    }

    @Override
    public boolean isRunning() {
        return rounds.isRunning();
    }
}
