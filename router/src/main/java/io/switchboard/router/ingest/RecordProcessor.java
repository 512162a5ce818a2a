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

    /** A record decoded and normalized, ready to be written; null from {@link #prepare} when it was parked. */
    public record Prepared(ConsumerRecord<String, byte[]> record, InboundEnvelope envelope, List<DomainChange> changes) {
    }

    /**
     * @param pending  receives the sends (dead letters) the caller must wait for before committing
     * @param events   receives the domain events to publish
     * @param refresh  a replay: stored messages take the fresh normalization result
     */
    public Outcome process(ConsumerRecord<String, byte[]> record, List<CompletableFuture<?>> pending,
                           List<ConversationEvent> events, boolean refresh) {
        Prepared prepared = prepare(record, pending);
        if (prepared == null) {
            return Outcome.DEAD_LETTERED;
        }
        apply(prepared, events, refresh);
        return Outcome.APPLIED;
    }

    /**
     * Decodes and normalizes a record without touching the store, so a batch can be normalized first
     * and its lookups loaded together ({@link io.switchboard.store.InboxStore#prefetch}).
     *
     * @return null if the record went to the dead-letter topic
     */
    public Prepared prepare(ConsumerRecord<String, byte[]> record, List<CompletableFuture<?>> pending) {
        InboundEnvelope envelope;
        try {
            envelope = ContractJson.fromBytes(record.value(), InboundEnvelope.class);
        } catch (ContractJson.UndecodableRecordException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return null;
        }
        if (!record.topic().equals(Topics.inbound(envelope.channel()))) {
            pending.add(deadLetters.park(record, "envelope of channel " + envelope.channel().wire() + " on topic " + record.topic()));
            return null;
        }
        InboundEnvelope decoded = envelope;
        return withMdc(envelope, () -> normalize(record, decoded, pending));
    }

    private Prepared normalize(ConsumerRecord<String, byte[]> record, InboundEnvelope envelope, List<CompletableFuture<?>> pending) {
        try {
            // a raw event too large for Kafka arrives as a reference to the document store (ADR 0102)
            envelope = payloadReferences.resolve(envelope);
        } catch (MalformedEventException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return null;
        }
        Optional<Normalizer> normalizer = normalizers.forChannel(envelope.channel());
        if (normalizer.isEmpty()) {
            pending.add(deadLetters.park(record, "no normalizer for channel " + envelope.channel().wire()));
            return null;
        }
        List<DomainChange> changes;
        try {
            changes = normalizer.get().normalize(envelope);
        } catch (MalformedEventException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return null;
        } catch (RuntimeException e) {
            // A normalizer bug on one event must not stop the channel: park it, fix, replay.
            // the exception's message may quote the payload: the reason names the failure and where, not the data
            StackTraceElement at = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
            pending.add(deadLetters.park(record, "normalizer failed: " + e.getClass().getName()
                    + (at == null ? "" : " at " + at.getClassName() + "." + at.getMethodName() + ":" + at.getLineNumber())));
            return null;
        }
        return new Prepared(record, envelope, changes);
    }

    /** Writes a prepared record's changes; store failures propagate, so the caller's batch is retried. */
    public void apply(Prepared prepared, List<ConversationEvent> events, boolean refresh) {
        withMdc(prepared.envelope(), () -> events.addAll(writer.apply(prepared.envelope(), prepared.changes(), refresh)));
    }

    // Channel and event in every log line of this record (structured logs carry the MDC); never bodies.
    private static <T> T withMdc(InboundEnvelope envelope, java.util.function.Supplier<T> work) {
        org.slf4j.MDC.put("channel", envelope.channel().wire());
        org.slf4j.MDC.put("account", envelope.account());
        org.slf4j.MDC.put("eventId", envelope.eventId());
        try {
            return work.get();
        } finally {
            org.slf4j.MDC.remove("channel");
            org.slf4j.MDC.remove("account");
            org.slf4j.MDC.remove("eventId");
        }
    }
}
