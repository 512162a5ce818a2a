package io.switchboard.api.security;

import org.springframework.http.HttpMethod;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import java.util.List;
import java.util.Optional;

/**
 * The one table of who may call what. The security filter chains are built from it, and
 * {@code SecurityMatrixTest} (standalone) fails when a handler method exists that no rule here
 * covers, so a new endpoint cannot ship without a deliberate decision. First match wins.
 * An /api or /actuator path no rule covers is left to admins only (least privilege until someone decides);
 * the wildcard rules ({@code /api/admin/**}, {@code /actuator/**}) are such backstops, and the matrix test
 * does not accept them as a decision: it wants a rule naming each endpoint ({@link Rule#names}).
 */
public final class EndpointRules {

    /** @param method null for every method */
    public record Rule(HttpMethod method, String pattern, Access access) {

        public boolean covers(HttpMethod m, String path) {
            return (method == null || method.equals(m)) && parsed(pattern).matches(
                    org.springframework.http.server.PathContainer.parsePath(path));
        }

        boolean isApi() {
            return pattern.startsWith("/api/") || pattern.startsWith("/v3/api-docs");
        }

        boolean isActuator() {
            return pattern.equals("/actuator") || pattern.startsWith("/actuator/");
        }

        /**
         * Decides exactly this endpoint pattern (variable names aside), rather than catching it with a wildcard:
         * what {@code SecurityMatrixTest} wants for every endpoint. Static files count under their directory's rule.
         */
        public boolean names(String endpointPattern) {
            return normalized(pattern).equals(normalized(endpointPattern));
        }

        private static String normalized(String p) {
            return p.replaceAll("\\{[^}]*}", "{}");
        }
    }

    private static final HttpMethod GET = HttpMethod.GET;
    private static final HttpMethod POST = HttpMethod.POST;
    private static final HttpMethod PUT = HttpMethod.PUT;
    private static final HttpMethod PATCH = HttpMethod.PATCH;
    private static final HttpMethod DELETE = HttpMethod.DELETE;

    public static final List<Rule> RULES = List.of(
            // the queue and conversations: every signed-in user
            new Rule(GET, "/api/conversations", Access.AGENT),
            new Rule(GET, "/api/conversations/{id}", Access.AGENT),
            new Rule(PATCH, "/api/conversations/{id}", Access.AGENT),
            new Rule(POST, "/api/conversations/{id}/messages", Access.AGENT),
            new Rule(POST, "/api/conversations/{id}/notes", Access.AGENT),
            new Rule(POST, "/api/conversations/{id}/presence", Access.AGENT),
            new Rule(POST, "/api/conversations/{id}/snooze", Access.AGENT),
            new Rule(GET, "/api/conversations/{id}/suggestion", Access.AGENT),
            new Rule(GET, "/api/conversations/{id}/files", Access.AGENT),
            new Rule(POST, "/api/conversations/{id}/merge", Access.AGENT),
            new Rule(GET, "/api/teams", Access.AGENT),
            new Rule(GET, "/api/tags", Access.AGENT),
            new Rule(GET, "/api/contacts/{id}", Access.AGENT),
            new Rule(PATCH, "/api/contacts/{id}", Access.AGENT),
            new Rule(POST, "/api/contacts/{id}/identities", Access.AGENT),
            new Rule(POST, "/api/contacts/{id}/merge", Access.AGENT),
            new Rule(GET, "/api/files/{ref}", Access.AGENT),
            new Rule(POST, "/api/files", Access.AGENT),
            // open to adapters without a session: the link's HMAC signature and expiry are checked (ADR 0150)
            new Rule(GET, "/api/files/signed/{ref}", Access.PUBLIC),
            new Rule(GET, "/api/stream", Access.AGENT),
            new Rule(GET, "/api/views", Access.AGENT),
            new Rule(GET, "/api/canned", Access.AGENT),
            new Rule(GET, "/api/me", Access.AGENT),
            new Rule(GET, "/api/tokens", Access.AGENT),
            new Rule(POST, "/api/tokens", Access.AGENT),
            new Rule(DELETE, "/api/tokens/{id}", Access.AGENT),
            new Rule(GET, "/v3/api-docs", Access.AGENT),
            new Rule(GET, "/v3/api-docs/**", Access.AGENT),
            new Rule(GET, "/v3/api-docs.yaml", Access.AGENT),
            // SLA figures are readable by every agent (INTERFACE.md lists the summary in the agents' API);
            // the dashboard page drawing them is the operators'
            new Rule(GET, "/api/sla/summary", Access.AGENT),
            // administration (users, canned responses, SLA policies, channel accounts, audit)
            new Rule(GET, "/api/admin/users", Access.ADMIN),
            new Rule(POST, "/api/admin/users", Access.ADMIN),
            new Rule(PATCH, "/api/admin/users/{username}", Access.ADMIN),
            new Rule(PUT, "/api/admin/users/{username}/password", Access.ADMIN),
            new Rule(GET, "/api/admin/channels", Access.ADMIN),
            new Rule(PUT, "/api/admin/canned/{id}", Access.ADMIN),
            new Rule(DELETE, "/api/admin/canned/{id}", Access.ADMIN),
            new Rule(GET, "/api/admin/assignment", Access.ADMIN),
            new Rule(PUT, "/api/admin/assignment", Access.ADMIN),
            new Rule(GET, "/api/admin/sla", Access.ADMIN),
            new Rule(PUT, "/api/admin/sla", Access.ADMIN),
            new Rule(POST, "/api/admin/sla/rebuild", Access.ADMIN),
            new Rule(POST, "/api/admin/replay", Access.ADMIN),
            new Rule(GET, "/api/admin/replays/{id}", Access.ADMIN),
            new Rule(GET, "/api/admin/deadletters", Access.ADMIN),
            new Rule(POST, "/api/admin/deadletters/{partition}/{offset}/replay", Access.ADMIN),
            new Rule(GET, "/api/admin/audit", Access.ADMIN),
            // backstop only: SecurityMatrixTest still wants an exact rule above for every admin endpoint
            new Rule(null, "/api/admin/**", Access.ADMIN),
            // actuator (its own chain): health for load balancers and probes without details (details need an
            // admin, management.endpoint.health.show-details=when-authorized); metrics for the scraper's token
            // or admins (docs/adr/0143-actuator-access.md); the rest for admins
            new Rule(GET, "/actuator/health", Access.PUBLIC),
            new Rule(GET, "/actuator/health/liveness", Access.PUBLIC),
            new Rule(GET, "/actuator/health/readiness", Access.PUBLIC),
            new Rule(GET, "/actuator/health/**", Access.ADMIN),
            new Rule(GET, "/actuator/prometheus", Access.METRICS),
            new Rule(GET, "/actuator", Access.ADMIN),
            new Rule(GET, "/actuator/info", Access.ADMIN),
            new Rule(GET, "/actuator/metrics", Access.ADMIN),
            new Rule(GET, "/actuator/metrics/{requiredMetricName}", Access.ADMIN),
            new Rule(null, "/actuator/**", Access.ADMIN),
            // web UI
            new Rule(GET, "/", Access.AGENT),
            new Rule(GET, "/dashboard", Access.OPERATOR),
            new Rule(GET, "/login", Access.PUBLIC),
            // static files (served by Spring's resource handlers from static/ui and the webjars)
            new Rule(null, "/ui/**", Access.PUBLIC),
            new Rule(null, "/webjars/**", Access.PUBLIC),
            // open by design: each has its own authenticity check (INTERFACE.md)
            new Rule(POST, "/webhooks/telegram/{account}", Access.PUBLIC),
            new Rule(POST, "/webhooks/vk/{account}", Access.PUBLIC),
            new Rule(GET, "/webhooks/facebook/{account}", Access.PUBLIC),
            new Rule(POST, "/webhooks/facebook/{account}", Access.PUBLIC),
            new Rule(POST, "/webhooks/phone/{account}/{format}", Access.PUBLIC),
            new Rule(POST, "/webhooks/phone/{account}/mango/events/{event}", Access.PUBLIC),
            new Rule(GET, "/webhooks/phone/{account}/zadarma", Access.PUBLIC),
            new Rule(GET, "/contact", Access.PUBLIC),
            new Rule(POST, "/contact", Access.PUBLIC),
            new Rule(POST, "/contact.json", Access.PUBLIC),
            new Rule(GET, "/contact/embed", Access.PUBLIC),
            new Rule(GET, "/contact/embed.js", Access.PUBLIC),
            new Rule(GET, "/contact/thanks", Access.PUBLIC),
            new Rule(null, "/error", Access.PUBLIC));

    /** The rule deciding this request, if any. */    /** The rule deciding this request, if any. */
    public static Optional<Rule> ruleFor(HttpMethod method, String path) {
        return RULES.stream().filter(r -> r.covers(method, path)).findFirst();
    }

    static List<Rule> apiRules() {
        return RULES.stream().filter(Rule::isApi).toList();
    }

    static List<Rule> uiRules() {
        return RULES.stream().filter(r -> !r.isApi() && !r.isActuator() && !r.pattern().startsWith("/webhooks")
                && !r.pattern().startsWith("/contact") && !r.pattern().equals("/error")).toList();
    }

    static List<Rule> actuatorRules() {
        return RULES.stream().filter(Rule::isActuator).toList();
    }

    private static PathPattern parsed(String pattern) {
        return PathPatternParser.defaultInstance.parse(pattern);
    }

    private EndpointRules() {
    }
}
