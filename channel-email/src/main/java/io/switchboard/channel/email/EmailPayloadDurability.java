package io.switchboard.channel.email;

/**
 * Makes the payload store's writes durable before the reference to them is published. Real
 * MongoDB acknowledges majority writes durably, so without a bean of this type nothing is done;
 * the standalone form registers one that commits its embedded store file (ADR 0003, ADR 0102).
 */
@FunctionalInterface
public interface EmailPayloadDurability {

    void commit();
}
