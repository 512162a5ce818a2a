package io.switchboard.api.conversations;

import io.switchboard.api.conversations.QueueOrder.Position;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The due order reads its two phases in separate queries, so a clock that starts or stops between them
 * moves a conversation from one phase to the other during one request. Each case below is what the three
 * reads (phase 0, phase 1, phase 0 again) return for such a move; the page must hold it exactly once.
 */
class QueueOrderMergeTest {

    static final Instant T = Instant.parse("2026-05-04T12:00:00Z");

    static Position due(String id, int minutes) {
        return new Position(0, T.plusSeconds(60L * minutes), id);
    }

    static Position active(String id, int minutesAgo) {
        return new Position(1, T.minusSeconds(60L * minutesAgo), id);
    }

    static List<String> ids(List<Position> positions) {
        return positions.stream().map(Position::id).toList();
    }

    @Test
    void nothingMoves_runningClocksFirstThenTheRest() {
        List<Position> first = List.of(due("a", 5), due("b", 10));
        List<Position> rest = List.of(active("c", 1), active("d", 2));
        assertThat(ids(QueueOrder.merge(first, rest, first, 10))).containsExactly("a", "b", "c", "d");
    }

    @Test
    void aClockThatStartsBetweenTheTwoPhaseReads_isOnThePageOnceByItsDeadline() {
        // the snooze test's case: a new conversation the SLA tracker gives its first deadline just then
        List<Position> first = List.of(due("a", 5), due("b", 10));
        List<Position> rest = List.of(active("c", 1));
        List<Position> again = List.of(due("a", 5), due("new", 7), due("b", 10));
        assertThat(ids(QueueOrder.merge(first, rest, again, 10))).containsExactly("a", "new", "b", "c");
    }

    @Test
    void aClockThatStartsAfterPhaseOneWasRead_isNotListedTwice() {
        List<Position> first = List.of(due("a", 5));
        List<Position> rest = List.of(active("late", 1), active("c", 2));
        List<Position> again = List.of(due("late", 1), due("a", 5));
        assertThat(ids(QueueOrder.merge(first, rest, again, 10))).containsExactly("late", "a", "c");
    }

    @Test
    void aClockThatStopsBetweenTheTwoPhaseReads_isListedOnceInPhaseOne() {
        List<Position> first = List.of(due("a", 5), due("answered", 8));
        List<Position> rest = List.of(active("answered", 0), active("c", 2));
        List<Position> again = List.of(due("a", 5));
        assertThat(ids(QueueOrder.merge(first, rest, again, 10))).containsExactly("a", "answered", "c");
    }

    @Test
    void aClockThatStopsAfterPhaseOneWasRead_keepsItsEarlierPlace() {
        // phase 1 was read while the clock still ran, the second read of phase 0 after it stopped
        List<Position> first = List.of(due("a", 5), due("answered", 8));
        List<Position> rest = List.of(active("c", 2));
        List<Position> again = List.of(due("a", 5));
        assertThat(ids(QueueOrder.merge(first, rest, again, 10))).containsExactly("a", "answered", "c");
    }

    @Test
    void atMostMaxPositions_phaseZeroBeforePhaseOne() {
        List<Position> first = List.of(due("a", 5));
        List<Position> rest = List.of(active("c", 1), active("d", 2), active("e", 3));
        List<Position> again = List.of(due("a", 5), due("b", 6));
        assertThat(ids(QueueOrder.merge(first, rest, again, 3))).containsExactly("a", "b", "c");
    }
}
