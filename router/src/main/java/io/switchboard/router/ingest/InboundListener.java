package io.switchboard.router.ingest;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Consumes every inbound topic in batches: decode, normalize, write; then make the writes durable
 * and wait for the dead letters and domain events, and only then return, which lets the container
 * commit the offsets. A crash anywhere before that redelivers the batch, and the idempotent writes
 * absorb the repeat.
 */
@Component
public class InboundListener {

    private final NormalizerRegistry normalizers;
    private final InboxWriter writer;
    private final DeadLetters deadLetters;
    private final ConversationEvents events;
    private final StoreDurability durability;

    public InboundListener(NormalizerRegistry normalizers, InboxWriter writer, DeadLetters deadLetters,
                           ConversationEvents events, ObjectProvider<StoreDurability> durability) {
        this.normalizers = normalizers;
        this.writer = writer;
        this.deadLetters = deadLetters;
        this.events = events;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
    }

    @KafkaListener(id = "router-inbound", containerFactory = "routerListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).allInbound()}",
            groupId = "${switchboard.router.group-id}",
            properties = "group.instance.id=${switchboard.router.instance-id}-inbound")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<ConversationEvent> changes = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            process(record, pending, changes);
        }
        durability.commit();
        pending.addAll(events.publish(changes));
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    }

    private void process(ConsumerRecord<String, byte[]> record, List<CompletableFuture<?>> pending,
                         List<ConversationEvent> changes) {
        InboundEnvelope envelope;
        try {
            envelope = ContractJson.fromBytes(record.value(), InboundEnvelope.class);
        } catch (ContractJson.UndecodableRecordException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return;
        }
        if (!record.topic().equals(Topics.inbound(envelope.channel()))) {
            pending.add(deadLetters.park(record, "envelope of channel " + envelope.channel().wire() + " on topic " + record.topic()));
            return;
        }
        Optional<Normalizer> normalizer = normalizers.forChannel(envelope.channel());
        if (normalizer.isEmpty()) {
            pending.add(deadLetters.park(record, "no normalizer for channel " + envelope.channel().wire()));
            return;
        }
        List<DomainChange> domainChanges;
        try {
            domainChanges = normalizer.get().normalize(envelope);
        } catch (MalformedEventException e) {
            pending.add(deadLetters.park(record, e.getMessage()));
            return;
        } catch (RuntimeException e) {
            // A normalizer bug on one event must not stop the channel: park it, fix, replay.
            pending.add(deadLetters.park(record, "normalizer failed: " + e));
            return;
        }
        changes.addAll(writer.apply(envelope, domainChanges));
    }
}
