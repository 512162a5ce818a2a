package io.switchboard.store;

/**
 * Makes every write so far durable before anything that depends on it is acknowledged
 * (a Kafka offset commit, an API answer). Real MongoDB acknowledges writes durably
 * (journaled write concern), so its implementation does nothing; the embedded store keeps
 * writes in memory until committed and needs this (ADR 0003).
 */
@FunctionalInterface
public interface StoreDurability {

    StoreDurability NONE = () -> { };

    void commit();
}
