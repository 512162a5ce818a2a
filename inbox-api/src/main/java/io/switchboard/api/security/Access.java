package io.switchboard.api.security;

import java.util.List;

/**
 * Who may call an endpoint. Roles nest: an operator may do what an agent may, an admin what an
 * operator may (the bootstrap admin holds all three roles anyway; users created with one role get
 * the ones below it through this rule, not through their record).
 */
public enum Access {
    /** Open: webhooks, the contact form, the login page, static assets. */
    PUBLIC(List.of()),
    /** Any signed-in user: the queue, conversations, replies, notes, live updates, SLA figures. */
    AGENT(List.of("AGENT", "OPERATOR", "ADMIN")),
    /** Supervisors: the dashboard (and everything agents may). */
    OPERATOR(List.of("OPERATOR", "ADMIN")),
    /** The Prometheus scrape: the scraper's token (role METRICS, nothing else) or an admin. */
    METRICS(List.of("METRICS", "ADMIN")),
    /** Users, channel accounts, SLA policies, canned responses, the audit log, the actuator. */
    ADMIN(List.of("ADMIN"));

    private final List<String> roles;

    Access(List<String> roles) {
        this.roles = roles;
    }

    /** The roles (without the ROLE_ prefix) that pass this rule; empty for PUBLIC. */
    public List<String> roles() {
        return roles;
    }

    public boolean allows(java.util.Collection<String> userRoles) {
        return this == PUBLIC || roles.stream().anyMatch(userRoles::contains);
    }
}
