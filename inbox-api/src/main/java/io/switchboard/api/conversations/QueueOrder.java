package io.switchboard.api.conversations;

import io.switchboard.api.sla.SlaView;
import org.bson.Document;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.query.Criteria;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The queue's orders as keyset ranges, so a cursor is a position, not an offset.
 *
 * <p>{@link #DUE} (the default, issue #9 "soonest SLA due first") has two phases: conversations with a
 * running SLA clock by their earliest deadline ({@code sla.nextDueAt}) ascending, then those without
 * one by latest activity, newest first. A store sorts a missing field before any value, so one query
 * cannot put "no deadline" last; each phase is its own query instead, and phase 1 starts where phase 0
 * ends. {@link #RECENT} is the single phase of latest activity over everything.
 */
enum QueueOrder {
    DUE, RECENT;

    static final String LAST = "lastMessageAt";

    /**
     * A place in the order: {@code phase} 0 = a running clock, keyed by its deadline; 1 = by latest activity.
     * Ties break on the id (ascending in phase 0, descending in phase 1, as the key).
     */
    record Position(int phase, Instant at, String id) {
    }

    static QueueOrder of(String sort) {
        if (sort == null || sort.isBlank() || sort.equals("due")) {
            return DUE;
        }
        if (sort.equals("recent")) {
            return RECENT;
        }
        return null;
    }

    List<Integer> phases() {
        return this == DUE ? List.of(0, 1) : List.of(1);
    }

    /** Which conversations a phase of {@link #DUE} holds ({@link #RECENT}'s one phase holds all). */
    Criteria phase(int phase) {
        return phase == 0 ? where(SlaView.NEXT_DUE_AT).ne(null) : where(SlaView.NEXT_DUE_AT).is(null);
    }

    Sort sort(int phase) {
        return phase == 0 ? Sort.by(Sort.Order.asc(SlaView.NEXT_DUE_AT), Sort.Order.asc("_id"))
                : Sort.by(Sort.Order.desc(LAST), Sort.Order.desc("_id"));
    }

    /** Strictly after {@code p} within p's phase (the phases after it need no condition). */
    static Criteria after(Position p) {
        String field = p.phase() == 0 ? SlaView.NEXT_DUE_AT : LAST;
        return p.phase() == 0
                ? new Criteria().orOperator(where(field).gt(p.at()), where(field).is(p.at()).and("_id").gt(p.id()))
                : new Criteria().orOperator(where(field).lt(p.at()), where(field).is(p.at()).and("_id").lt(p.id()));
    }

    /** The position of a stored conversation (a document read with {@link #FIELDS} at least) in phase {@code phase}. */
    static Position position(int phase, Document d) {
        Object raw = phase == 0 ? (d.get("sla") instanceof Document sla ? sla.get("nextDueAt") : null) : d.get(LAST);
        return new Position(phase, raw instanceof Date date ? date.toInstant() : (Instant) raw, String.valueOf(d.get("_id")));
    }

    /** The fields a position needs. */
    static final List<String> FIELDS = List.of("_id", LAST, SlaView.NEXT_DUE_AT);

    /**
     * The positions of {@link #DUE}'s two phases, read in three queries: phase 0 ({@code first}), phase 1
     * ({@code rest}), then phase 0 {@code again}. A conversation whose clock started or stopped meanwhile
     * was in one phase for one read and in the other for the next; each is placed once:
     * <ul>
     * <li>in phase 0 if the second read of it found it there (its clock runs now);</li>
     * <li>in phase 0 at its earlier place if only the first read found it (its clock stopped after phase 1
     * was read, so phase 1 did not have it);</li>
     * <li>otherwise in phase 1 if phase 1 had it.</li>
     * </ul>
     * Each list is in its phase's order; the result holds at most {@code max}.
     */
    static List<Position> merge(List<Position> first, List<Position> rest, List<Position> again, int max) {
        Map<String, Position> running = new LinkedHashMap<>();
        again.forEach(p -> running.put(p.id(), p));
        Set<String> inRest = new HashSet<>();
        rest.forEach(p -> inRest.add(p.id()));
        first.stream().filter(p -> !inRest.contains(p.id())).forEach(p -> running.putIfAbsent(p.id(), p));
        List<Position> out = new ArrayList<>(running.values());
        out.sort(comparator(0));
        rest.stream().filter(p -> !running.containsKey(p.id())).forEach(out::add);
        return out.size() > max ? List.copyOf(out.subList(0, max)) : out;
    }

    /** In-memory order of one phase: stores that ignore the sort index still come out right. */
    static Comparator<Position> comparator(int phase) {
        Comparator<Position> byKey = Comparator.comparing(Position::at).thenComparing(Position::id);
        return phase == 0 ? byKey : byKey.reversed();
    }
}
