package io.switchboard.router.sla;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One policy: when it applies, and the targets per priority on its calendar.
 *
 * @param conditions    empty sets match anything; a policy without conditions matches every conversation
 * @param targets       per priority ({@code urgent|high|normal|low}); a missing priority falls back to {@code normal}
 * @param snoozedPauses whether "snoozed" pauses the resolution clock as "pending" does
 */
public record SlaPolicy(String name, BusinessCalendar calendar, Conditions conditions, Map<String, Targets> targets,
                        boolean snoozedPauses) {

    public static final String NORMAL = "normal";

    /** Targets of one priority; a null target means the metric is not tracked under this policy. */
    public record Targets(Duration firstResponse, Duration nextResponse, Duration resolution) {

        public Duration of(SlaMetric metric) {
            switch (metric) {
                case FIRST_RESPONSE:
                    return firstResponse;
                case NEXT_RESPONSE:
                    return nextResponse;
                default:
                    return resolution;
            }
        }
    }

    /**
     * All given sets must match (AND); within a set any value matches (OR).
     *
     * @param tags        any of the conversation's tags
     * @param contactTags any of the conversation's contact's tags
     */
    public record Conditions(Set<String> channels, Set<String> priorities, Set<String> accounts, Set<String> tags,
                             Set<String> topics, Set<String> contactTags) {

        public static final Conditions NONE = new Conditions(Set.of(), Set.of(), Set.of(), Set.of(), Set.of(), Set.of());

        public Conditions {
            channels = channels == null ? Set.of() : Set.copyOf(channels);
            priorities = priorities == null ? Set.of() : Set.copyOf(priorities);
            accounts = accounts == null ? Set.of() : Set.copyOf(accounts);
            tags = tags == null ? Set.of() : Set.copyOf(tags);
            topics = topics == null ? Set.of() : Set.copyOf(topics);
            contactTags = contactTags == null ? Set.of() : Set.copyOf(contactTags);
        }

        /** Conditions without contact tags. */
        public Conditions(Set<String> channels, Set<String> priorities, Set<String> accounts, Set<String> tags, Set<String> topics) {
            this(channels, priorities, accounts, tags, topics, Set.of());
        }

        public boolean isEmpty() {
            return channels.isEmpty() && priorities.isEmpty() && accounts.isEmpty() && tags.isEmpty() && topics.isEmpty()
                    && contactTags.isEmpty();
        }

        boolean matches(SlaSubject s) {
            return in(channels, s.channel()) && in(priorities, s.priority()) && in(accounts, s.account())
                    && any(tags, s.tags()) && in(topics, s.topic()) && any(contactTags, s.contactTags());
        }

        private static boolean any(Set<String> wanted, Set<String> present) {
            return wanted.isEmpty() || present.stream().anyMatch(wanted::contains);
        }

        private static boolean in(Set<String> allowed, String value) {
            return allowed.isEmpty() || (value != null && allowed.contains(value));
        }
    }

    public SlaPolicy {
        Objects.requireNonNull(name, "name");
        calendar = calendar == null ? BusinessCalendar.ALWAYS : calendar;
        conditions = conditions == null ? Conditions.NONE : conditions;
        targets = Map.copyOf(targets);
    }

    public boolean matches(SlaSubject subject) {
        return conditions.matches(subject);
    }

    /** The target of a metric for a priority, falling back to {@code normal}; null when none. */
    public Duration target(String priority, SlaMetric metric) {
        Targets own = priority == null ? null : targets.get(priority);
        Duration d = own == null ? null : own.of(metric);
        if (d == null) {
            Targets normal = targets.get(NORMAL);
            d = normal == null ? null : normal.of(metric);
        }
        return d;
    }
}
