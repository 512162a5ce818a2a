package io.switchboard.api.security;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.config.annotation.web.configurers.AuthorizeHttpRequestsConfigurer;
import org.springframework.security.core.userdetails.UserDetailsService;

import java.util.Set;

/** Turns {@link EndpointRules} into the filter chains' authorization rules. */
public final class SecurityChains {

    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    public static void apply(AuthorizeHttpRequestsConfigurer<?>.AuthorizationManagerRequestMatcherRegistry auth, boolean api) {
        apply(auth, api ? EndpointRules.apiRules() : EndpointRules.uiRules());
    }

    public static void applyActuator(AuthorizeHttpRequestsConfigurer<?>.AuthorizationManagerRequestMatcherRegistry auth) {
        apply(auth, EndpointRules.actuatorRules());
    }

    private static void apply(AuthorizeHttpRequestsConfigurer<?>.AuthorizationManagerRequestMatcherRegistry auth,
                              java.util.List<EndpointRules.Rule> rules) {
        for (EndpointRules.Rule rule : rules) {
            var matcher = rule.method() == null ? auth.requestMatchers(rule.pattern())
                    : auth.requestMatchers(rule.method(), rule.pattern());
            if (rule.access() == Access.PUBLIC) {
                matcher.permitAll();
            } else {
                matcher.hasAnyRole(rule.access().roles().toArray(String[]::new));
            }
        }
    }

    public static Filter bearer(ApiTokens tokens, UserDetailsService users) {
        return new BearerTokenFilter(tokens, users, null);
    }

    /** API tokens, and also the Prometheus scraper's token (INBOX_METRICS_TOKEN) when one is configured. */
    public static Filter bearerOrMetrics(ApiTokens tokens, UserDetailsService users, String metricsToken) {
        return new BearerTokenFilter(tokens, users, metricsToken == null || metricsToken.isBlank() ? null : metricsToken);
    }

    /** Ends a browser session whose user was disabled or given other roles since signing in. */
    public static Filter sessionUserCheck(UserDetailsService users) {
        return new SessionUserCheck(users);
    }

    /** Anonymous health answers: the status alone (ADR 0143). */
    public static Filter healthStatusOnly() {
        return new HealthStatusOnly();
    }

    /** CSRF matters only for changes carried by a browser session (not Basic or token requests). */
    public static boolean needsCsrf(HttpServletRequest request) {
        return !SAFE.contains(request.getMethod()) && request.getHeader("Authorization") == null
                && request.getSession(false) != null;
    }

    private SecurityChains() {
    }
}
