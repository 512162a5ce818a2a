package io.switchboard.api.security;

import io.switchboard.store.Conversation;
import org.bson.Document;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Which conversations a user may see (ADR 0142). Operators and admins see all. Once teams are
 * configured (PUT /api/admin/assignment: {@code teams[].channels}, {@code teams[].accounts},
 * {@code agents[].teams}), an agent sees the conversations of their teams' channels and accounts
 * plus those assigned to them; everything else (other teams' queues, assigned or not) is hidden
 * and answers 404 as if it did not exist. With no teams configured every agent sees all.
 */
@Component
public class Visibility {

    /** Where the assignment settings (teams and agents) live: collection and document id. */
    public static final String SETTINGS = "settings";
    public static final String ASSIGNMENT = "assignment";

    /** A team's scope: channels and accounts it serves (empty = any). */
    public record Team(String name, List<String> channels, List<String> accounts) {

        public boolean servesAll() {
            return channels.isEmpty() && accounts.isEmpty();
        }

        public Criteria criteria() {
            List<Criteria> parts = new ArrayList<>();
            if (!channels.isEmpty()) {
                parts.add(where("channel").in(channels));
            }
            if (!accounts.isEmpty()) {
                parts.add(where("account").in(accounts));
            }
            return parts.isEmpty() ? new Criteria() : parts.size() == 1 ? parts.get(0) : new Criteria().andOperator(parts);
        }

        public boolean serves(Conversation c) {
            return (channels.isEmpty() || channels.contains(c.channel())) && (accounts.isEmpty() || accounts.contains(c.account()));
        }
    }

    private final MongoTemplate mongo;

    public Visibility(MongoTemplate mongo) {
        this.mongo = mongo;
    }

    /** The configured teams by name, in order. */
    public Map<String, Team> teams() {
        Document settings = mongo.findById(ASSIGNMENT, Document.class, SETTINGS);
        Map<String, Team> teams = new LinkedHashMap<>();
        for (Document t : documents(settings, "teams")) {
            String name = t.getString("name");
            if (name != null) {
                teams.put(name, new Team(name, strings(t.get("channels")), strings(t.get("accounts"))));
            }
        }
        return teams;
    }

    /**
     * The restriction for this user as a query condition, or empty when they see everything.
     */
    public Optional<Criteria> limit(Authentication user) {
        if (user == null || seesAll(user)) {
            return Optional.empty();
        }
        Document settings = mongo.findById(ASSIGNMENT, Document.class, SETTINGS);
        List<Document> configured = documents(settings, "teams");
        if (configured.isEmpty()) {
            return Optional.empty();
        }
        Set<String> mine = documents(settings, "agents").stream().filter(a -> user.getName().equals(a.getString("username")))
                .flatMap(a -> strings(a.get("teams")).stream()).collect(Collectors.toSet());
        List<Criteria> any = new ArrayList<>();
        any.add(where("assignee").is(user.getName()));
        for (Document t : configured) {
            if (!mine.contains(t.getString("name"))) {
                continue;
            }
            Team team = new Team(t.getString("name"), strings(t.get("channels")), strings(t.get("accounts")));
            if (team.servesAll()) {
                return Optional.empty();
            }
            any.add(team.criteria());
        }
        return Optional.of(new Criteria().orOperator(any));
    }

    /** True if this user may see this conversation. */
    public boolean canSee(Authentication user, Conversation c) {
        if (user == null || seesAll(user)) {
            return true;
        }
        Map<String, Team> teams = teams();
        if (teams.isEmpty() || user.getName().equals(c.assignee())) {
            return true;
        }
        Document settings = mongo.findById(ASSIGNMENT, Document.class, SETTINGS);
        return documents(settings, "agents").stream().filter(a -> user.getName().equals(a.getString("username")))
                .flatMap(a -> strings(a.get("teams")).stream()).map(teams::get)
                .anyMatch(t -> t != null && t.serves(c));
    }

    static boolean seesAll(Authentication user) {
        for (GrantedAuthority a : user.getAuthorities()) {
            if ("ROLE_OPERATOR".equals(a.getAuthority()) || "ROLE_ADMIN".equals(a.getAuthority())) {
                return true;
            }
        }
        return false;
    }

    private static List<Document> documents(Document parent, String field) {
        Object raw = parent == null ? null : parent.get(field);
        List<Document> out = new ArrayList<>();
        if (raw instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Document d) {
                    out.add(d);
                }
            }
        }
        return out;
    }

    private static List<String> strings(Object raw) {
        List<String> out = new ArrayList<>();
        if (raw instanceof List<?> list) {
            for (Object o : list) {
                if (o != null) {
                    out.add(String.valueOf(o));
                }
            }
        }
        return out;
    }
}
