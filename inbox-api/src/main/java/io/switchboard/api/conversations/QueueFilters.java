package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.api.security.Visibility;
import io.switchboard.api.sla.SlaView;
import io.switchboard.store.Conversation;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The queue's server-side filters beyond status/channel/assignee/q (INTERFACE.md): tags, team,
 * priority, account, SLA state, saved views, and what the caller may see. Each is a plain query
 * condition (no $text), so they combine with each other and with the cursor.
 */
@Component
class QueueFilters {

    static final List<String> PRIORITIES = List.of("urgent", "high", "normal", "low");
    static final List<String> SLA_STATES = List.of("breached", "at_risk", "ok");
    static final List<String> VIEWS = List.of("mine", "unassigned", "open", "breached", "at_risk");

    private final Visibility visibility;

    QueueFilters(Visibility visibility) {
        this.visibility = visibility;
    }

    /** The queue's parameters beyond the original ones. */
    record Params(List<String> tags, String team, String priority, String account, String sla, Integer atRiskMinutes,
                  String view) {
    }

    List<Criteria> criteria(Params p, Authentication user, Instant now) {
        List<Criteria> out = new ArrayList<>();
        int riskMinutes = p.atRiskMinutes() == null ? 30 : p.atRiskMinutes();
        if (riskMinutes < 1 || riskMinutes > 10080) {
            throw ApiException.badRequest("atRiskMinutes must be between 1 and 10080");
        }
        Instant riskUntil = now.plus(Duration.ofMinutes(riskMinutes));
        if (p.tags() != null) {
            List<String> tags = new ArrayList<>();
            for (String raw : p.tags()) {
                for (String one : raw.split(",")) {
                    if (!one.isBlank()) {
                        tags.add(Tags.normalize(one));
                    }
                }
            }
            if (!tags.isEmpty()) {
                out.add(where("tags").all(tags));
            }
        }
        if (present(p.team())) {
            Visibility.Team team = visibility.teams().get(p.team().trim());
            if (team == null) {
                throw ApiException.badRequest("team must be one of " + visibility.teams().keySet());
            }
            if (!team.servesAll()) {
                out.add(team.criteria());
            }
        }
        if (present(p.priority())) {
            List<String> wanted = list(p.priority());
            if (!PRIORITIES.containsAll(wanted)) {
                throw ApiException.badRequest("priority must be one or more of " + PRIORITIES);
            }
            out.add(where("priority").in(wanted));
        }
        if (present(p.account())) {
            out.add(where("account").in(List.of(p.account().trim().split("\\s*,\\s*"))));
        }
        if (present(p.sla())) {
            List<String> wanted = list(p.sla());
            if (!SLA_STATES.containsAll(wanted)) {
                throw ApiException.badRequest("sla must be one or more of " + SLA_STATES);
            }
            List<Criteria> any = wanted.stream().map(s -> sla(s, now, riskUntil)).toList();
            out.add(any.size() == 1 ? any.get(0) : new Criteria().orOperator(any));
        }
        if (present(p.view())) {
            String view = p.view().trim().toLowerCase(Locale.ROOT);
            switch (view) {
                case "mine" -> out.add(where("assignee").is(user.getName())
                        .and("status").in(Conversation.OPEN, Conversation.PENDING, Conversation.SNOOZED));
                case "unassigned" -> out.add(where("assignee").isNull().and("status").in(Conversation.OPEN, Conversation.PENDING));
                case "open" -> out.add(where("status").in(Conversation.OPEN, Conversation.PENDING));
                case "breached" -> out.add(new Criteria().andOperator(where("status").in(Conversation.OPEN, Conversation.PENDING),
                        sla("breached", now, riskUntil)));
                case "at_risk" -> out.add(new Criteria().andOperator(where("status").in(Conversation.OPEN, Conversation.PENDING),
                        sla("at_risk", now, riskUntil)));
                default -> throw ApiException.badRequest("view must be one of " + VIEWS);
            }
        }
        visibility.limit(user).ifPresent(out::add);
        return out;
    }

    /**
     * SLA state from the clocks the router's SLA tracker stored: breached = the earliest running
     * deadline has passed; at_risk = it comes within the next N minutes; ok = neither (or no running clock).
     * The same rule as the dashboard's "breached now" and "at risk" tiles.
     */
    static Criteria sla(String state, Instant now, Instant riskUntil) {
        return switch (state) {
            case "breached" -> where(SlaView.NEXT_DUE_AT).lte(now);
            case "at_risk" -> where(SlaView.NEXT_DUE_AT).gt(now).lte(riskUntil);
            default -> new Criteria().orOperator(where(SlaView.NEXT_DUE_AT).is(null), where(SlaView.NEXT_DUE_AT).gt(riskUntil));
        };
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    private static List<String> list(String s) {
        return List.of(s.trim().toLowerCase(Locale.ROOT).split("\\s*,\\s*"));
    }
}
