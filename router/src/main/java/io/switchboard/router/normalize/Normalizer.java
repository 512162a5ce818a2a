package io.switchboard.router.normalize;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;

import java.util.List;

/**
 * Turns one raw channel event into the changes it means for the inbox. One implementation per
 * channel, plain Java (no Spring, Kafka or Mongo: an architecture test checks it), registered in
 * {@code META-INF/services}; adding a channel adds a class and a line, and touches no other normalizer.
 *
 * <p>A normalizer is a pure function of the envelope: no clock, no I/O. That is what makes
 * replaying raw events after a normalizer fix safe.
 */
public interface Normalizer {

    Channel channel();

    /**
     * @return zero or more changes, in the order they must be applied
     * @throws MalformedEventException when the payload cannot be read at all (it goes to the dead-letter topic)
     */
    List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException;

    /**
     * The message key of one of our own messages once the channel accepted it, built exactly as
     * this normalizer builds keys of incoming messages, so echoes and receipts find it.
     *
     * @param recipient  the address the message went to (chat_id, peer_id, ...)
     * @param externalId the channel's id of the sent message
     */
    default String outboundMessageKey(String account, java.util.Map<String, String> recipient, String externalId) {
        return channel().wire() + ":" + account + ":" + externalId;
    }
}
