package io.switchboard.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * What became of an {@link OutboundCommand}, on {@link Topics#DELIVERY_REPORTS}, keyed by conversation.
 *
 * @param schemaVersion  always {@link #SCHEMA_VERSION}
 * @param messageId      our outbound message id from the command
 * @param channel        the channel
 * @param account        the channel account
 * @param conversationId the conversation
 * @param status         sent, failed, delivered or read
 * @param externalId     the channel's id of the sent message (for echo, receipt and bounce matching)
 * @param failureReason  for failed: the channel's reason, readable by agents
 * @param attempts       how many send attempts the adapter made
 * @param at             when the status was reached
 * @param recipientUnreachable the channel says the recipient cannot be reached at all any more (blocked the
 *                       bot, revoked permission): the contact is marked so agents pick another channel
 */
public record DeliveryReport(
        int schemaVersion,
        String messageId,
        Channel channel,
        String account,
        String conversationId,
        Status status,
        String externalId,
        String failureReason,
        int attempts,
        Instant at,
        Boolean recipientUnreachable) {

    public static final int SCHEMA_VERSION = 1;

    public DeliveryReport {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(at, "at");
        // added within v1: absent in older records, so a wrapper type read as false when missing
        recipientUnreachable = Boolean.TRUE.equals(recipientUnreachable);
    }

    /** The v1 shape before {@code recipientUnreachable} was added (additive change, ADR 0002). */
    public DeliveryReport(int schemaVersion, String messageId, Channel channel, String account, String conversationId,
                          Status status, String externalId, String failureReason, int attempts, Instant at) {
        this(schemaVersion, messageId, channel, account, conversationId, status, externalId, failureReason, attempts, at, false);
    }

    public static DeliveryReport sent(OutboundCommand c, String externalId, int attempts, Instant at) {
        return new DeliveryReport(SCHEMA_VERSION, c.messageId(), c.channel(), c.account(), c.conversationId(),
                Status.SENT, externalId, null, attempts, at, false);
    }

    public static DeliveryReport failed(OutboundCommand c, String reason, int attempts, Instant at) {
        return new DeliveryReport(SCHEMA_VERSION, c.messageId(), c.channel(), c.account(), c.conversationId(),
                Status.FAILED, null, reason, attempts, at, false);
    }

    /** Failed because the recipient cannot be reached on this channel any more (blocked us, revoked consent). */
    public static DeliveryReport unreachable(OutboundCommand c, String reason, int attempts, Instant at) {
        return new DeliveryReport(SCHEMA_VERSION, c.messageId(), c.channel(), c.account(), c.conversationId(),
                Status.FAILED, null, reason, attempts, at, true);
    }

    public enum Status {
        SENT, FAILED, DELIVERED, READ;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Status fromWire(String value) {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        }
    }
}
