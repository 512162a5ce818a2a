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
}
