package io.switchboard.router.ingest;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ConversationEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The events of a slice that ran again after losing a creation race (InboundListener.afterConflict). */
class InboundListenerConflictTest {

    static final Instant T0 = Instant.parse("2026-03-09T10:00:00Z");

    static ConversationEvent event(String type, String conversationId, String messageId) {
        return new ConversationEvent(ConversationEvent.SCHEMA_VERSION, type + ":" + conversationId + ":" + messageId, type,
                conversationId, messageId, Channel.TELEGRAM, T0, Map.of());
    }

    @Test
    void eventsOfWritesTheFailedRunStoredAreKept_firstAndOnce_thoseOfItsUnstoredNewConversationsDropped() {
        // failed run: m1 in the existing conversation X was flushed before the conflict (a delivery update
        // in X flushed it); the new sender's conversation "lost" was held back and never inserted
        ConversationEvent m1 = event(ConversationEvent.MESSAGE_ADDED, "X", "m1");
        ConversationEvent m2 = event(ConversationEvent.MESSAGE_ADDED, "X", "m2"); // held back, made again by the rerun
        ConversationEvent openedLost = event(ConversationEvent.CONVERSATION_OPENED, "lost", null);
        ConversationEvent m3Lost = event(ConversationEvent.MESSAGE_ADDED, "lost", "m3");
        // the rerun finds m1 stored (only a repeat of its event), makes m2 again and joins the winner's
        // conversation W for m3
        ConversationEvent m1Repeat = new ConversationEvent(m1.schemaVersion(), m1.eventId(), m1.type(), "X", "m1",
                Channel.TELEGRAM, T0, Map.of(ConversationEvents.REDELIVERED, "true"));
        ConversationEvent m3 = event(ConversationEvent.MESSAGE_ADDED, "W", "m3");

        List<ConversationEvent> out = InboundListener.afterConflict(
                List.of(m1, m2, openedLost, m3Lost, m1, m2), // two failed runs
                List.of(m1Repeat, m2, m3), Set.of("X", "W"));

        assertThat(out).containsExactly(m1, m2, m3);
    }

    @Test
    void withoutStoredWritesOfTheFailedRunTheRerunsEventsAreAllThereIs() {
        ConversationEvent opened = event(ConversationEvent.CONVERSATION_OPENED, "W", null);
        ConversationEvent added = event(ConversationEvent.MESSAGE_ADDED, "W", "m1");
        assertThat(InboundListener.afterConflict(List.of(event(ConversationEvent.CONVERSATION_OPENED, "lost", null)),
                List.of(opened, added), Set.of())).containsExactly(opened, added);
    }

    @Test
    void aRecordTwiceInOneBatchPublishesItsEventsOnce_asFirstMade() {
        ConversationEvent added = event(ConversationEvent.MESSAGE_ADDED, "X", "m1");
        ConversationEvent repeat = new ConversationEvent(added.schemaVersion(), added.eventId(), added.type(), "X", "m1",
                Channel.TELEGRAM, T0, Map.of(ConversationEvents.REDELIVERED, "true"));
        ConversationEvent other = event(ConversationEvent.MESSAGE_ADDED, "X", "m2");
        assertThat(ConversationEvents.firstOfEachId(List.of(added, repeat, other))).containsExactly(added, other);
    }
}
