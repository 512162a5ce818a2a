package io.switchboard.store;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The time order of a transcript read as one, whatever order its messages were stored in. */
class TranscriptTest {

    static final Instant T0 = Instant.parse("2025-03-12T10:00:00Z");

    static Message inbound(String key, Instant at) {
        return new Message(key, key, Message.INBOUND, "message", "email", "<" + key + "@x>", at, "Anna", key, List.of(),
                null, null, null, null, null, false);
    }

    static Message note(String key, Instant at) {
        return new Message(key, key, "note", "note", "email", null, at, "ann", key, List.of(), null, null, null, null,
                null, false);
    }

    static String latestInbound(Message... stored) {
        return new Transcript("c", List.of(stored)).latest(m -> Message.INBOUND.equals(m.direction()))
                .map(Message::key).orElse(null);
    }

    @Test
    void theLatestIsTheNewestByTimeNotTheLastStored() {
        assertThat(latestInbound(inbound("a", T0), inbound("b", T0.plusSeconds(5)), inbound("merged", T0.minusSeconds(60))))
                .isEqualTo("b");
    }

    @Test
    void ofEqualTimesTheLaterStoredIsTheLatestAsInTheApisStableSort() {
        assertThat(latestInbound(inbound("a", T0), inbound("b", T0))).isEqualTo("b");
    }

    @Test
    void anUndatedMessageSortsLastAsTheApiShowsIt() {
        assertThat(latestInbound(inbound("undated", null), inbound("a", T0))).isEqualTo("undated");
    }

    @Test
    void onlyMessagesThatMatchAreConsidered() {
        assertThat(latestInbound(inbound("a", T0), note("later note", T0.plusSeconds(9)))).isEqualTo("a");
        assertThat(latestInbound(note("n", T0))).isNull();
    }
}
