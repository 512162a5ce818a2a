package io.switchboard.api.security;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;

import static org.assertj.core.api.Assertions.assertThat;

/** The table itself; that every endpoint of the product is covered is checked in standalone (SecurityMatrixTest). */
class EndpointRulesTest {

    static Access access(HttpMethod method, String path) {
        return EndpointRules.ruleFor(method, path).map(EndpointRules.Rule::access).orElse(null);
    }

    @Test
    void rolesFollowTheIssue() {
        assertThat(access(HttpMethod.GET, "/api/conversations")).isEqualTo(Access.AGENT);
        assertThat(access(HttpMethod.POST, "/api/conversations/{id}/notes")).isEqualTo(Access.AGENT);
        assertThat(access(HttpMethod.GET, "/api/sla/summary")).isEqualTo(Access.AGENT);
        // agents label contacts (the tags SLA policies match with contactTags) as they label conversations
        assertThat(access(HttpMethod.PATCH, "/api/contacts/{id}")).isEqualTo(Access.AGENT);
        assertThat(access(HttpMethod.GET, "/dashboard")).isEqualTo(Access.OPERATOR);
        assertThat(access(HttpMethod.PUT, "/api/admin/sla")).isEqualTo(Access.ADMIN);
        assertThat(access(HttpMethod.POST, "/api/admin/users")).isEqualTo(Access.ADMIN);
        assertThat(access(HttpMethod.POST, "/webhooks/phone/{account}/{format}")).isEqualTo(Access.PUBLIC);
        assertThat(access(HttpMethod.POST, "/contact.json")).isEqualTo(Access.PUBLIC);
        assertThat(access(HttpMethod.GET, "/contact/embed")).isEqualTo(Access.PUBLIC);
        assertThat(access(HttpMethod.GET, "/actuator/health")).isEqualTo(Access.PUBLIC);
        assertThat(access(HttpMethod.GET, "/actuator/prometheus")).isEqualTo(Access.METRICS);
        assertThat(access(HttpMethod.GET, "/actuator/metrics/{requiredMetricName}")).isEqualTo(Access.ADMIN);
        assertThat(access(HttpMethod.GET, "/actuator/env")).as("backstop").isEqualTo(Access.ADMIN);
    }

    @Test
    void anUndecidedEndpointHasNoRule() {
        assertThat(access(HttpMethod.DELETE, "/api/conversations/{id}")).isNull();
        assertThat(access(HttpMethod.GET, "/api/reports")).isNull();
        // caught by the admin backstop, but no rule names it: SecurityMatrixTest would refuse such an endpoint
        assertThat(EndpointRules.ruleFor(HttpMethod.GET, "/api/admin/reports").orElseThrow().names("/api/admin/reports")).isFalse();
        assertThat(EndpointRules.ruleFor(HttpMethod.PATCH, "/api/admin/users/{name}").orElseThrow().names("/api/admin/users/{name}"))
                .isTrue();
        assertThat(access(HttpMethod.POST, "/dashboard")).isNull();
    }

    @Test
    void rolesNest() {
        assertThat(Access.AGENT.allows(java.util.List.of("OPERATOR"))).isTrue();
        assertThat(Access.OPERATOR.allows(java.util.List.of("AGENT"))).isFalse();
        assertThat(Access.ADMIN.allows(java.util.List.of("OPERATOR"))).isFalse();
        assertThat(Access.OPERATOR.allows(java.util.List.of("ADMIN"))).isTrue();
    }
}
