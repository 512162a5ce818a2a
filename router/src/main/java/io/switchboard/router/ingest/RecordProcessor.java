package io.switchboard.router.ingest;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.router.payload.PayloadReferences;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One inbound record: decode, normalize, write. Records that can never be processed are parked
 * on the dead-letter topic; store failures propagate, so the caller's batch is retried.
 */
@Component
public class RecordProcessor {

    private final NormalizerRegistry normalizers;
    private final InboxWriter writer;
    private final DeadLetters deadLetters;
    private final PayloadReferences payloadReferences;

    public RecordProcessor(NormalizerRegistry normalizers, InboxWriter writer, DeadLetters deadLetters,
                           PayloadReferences payloadReferences) {
        this.normalizers = normalizers;
        this.writer = writer;
        this.deadLetters = deadLetters;
        this.payloadReferences = payloadReferences;
    }

    /** The outcome of one record. */
    public enum Outcome { APPLIED, DEAD_LETTERED }

    /**
     * @param pending  receives the sends (dead letters) the caller must wait for before committing
     * @param events   receives the domain events to publish
     * @param refresh  a replay: stored messages take the fresh normalization result
     */
    public Outcome process(ConsumerRecord<String, byte[]> record, List<CompletableFuture<?>> pending,
                           List<ConversationEvent> events, boolean refresh) {
        InboundEnvelope envelope;
        try {
            envelope = ContractJson.fromBytes(record.value(), InboundEnvelope.class);
        } catch (ContractJson.UndecodableRecordException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return Outcome.DEAD_LETTERED;
        }
        if (!record.topic().equals(Topics.inbound(envelope.channel()))) {
            pending.add(deadLetters.park(record, "envelope of channel " + envelope.channel().wire() + " on topic " + record.topic()));
            return Outcome.DEAD_LETTERED;
        }
        // Channel and event in every log line of this record (structured logs carry the MDC); never bodies.
        org.slf4j.MDC.put("channel", envelope.channel().wire());
        org.slf4j.MDC.put("account", envelope.account());
        org.slf4j.MDC.put("eventId", envelope.eventId());
        try {
            return apply(record, envelope, pending, events, refresh);
        } finally {
            org.slf4j.MDC.remove("channel");
            org.slf4j.MDC.remove("account");
            org.slf4j.MDC.remove("eventId");
        }
    }

    private Outcome apply(ConsumerRecord<String, byte[]> record, InboundEnvelope envelope, List<CompletableFuture<?>> pending,
                          List<ConversationEvent> events, boolean refresh) {
        try {
            // a raw event too large for Kafka arrives as a reference to the document store (ADR 0102)
            envelope = payloadReferences.resolve(envelope);
        } catch (MalformedEventException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return Outcome.DEAD_LETTERED;
        }
        Optional<Normalizer> normalizer = normalizers.forChannel(envelope.channel());
        if (normalizer.isEmpty()) {
            pending.add(deadLetters.park(record, "no normalizer for channel " + envelope.channel().wire()));
            return Outcome.DEAD_LETTERED;
        }
        List<DomainChange> changes;
        try {
            changes = normalizer.get().normalize(envelope);
        } catch (MalformedEventException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return Outcome.DEAD_LETTERED;
        } catch (RuntimeException e) {
            // A normalizer bug on one event must not stop the channel: park it, fix, replay.
            // the exception's message may quote the payload: the reason names the failure and where, not the data
            StackTraceElement at = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
            pending.add(deadLetters.park(record, "normalizer failed: " + e.getClass().getName()
                    + (at == null ? "" : " at " + at.getClassName() + "." + at.getMethodName() + ":" + at.getLineNumber())));
            return Outcome.DEAD_LETTERED;
        }
        events.addAll(writer.apply(envelope, changes, refresh));
        return Outcome.APPLIED;
    }
}
