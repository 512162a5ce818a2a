package io.switchboard.router.ingest;

import io.switchboard.contract.ConversationEvent;
import io.switchboard.router.tracing.RecordTracing;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Consumes every inbound topic in batches: decode, normalize, write; then make the writes durable
 * and wait for the dead letters and domain events, and only then return, which lets the container
 * commit the offsets. A crash anywhere before that redelivers the batch, and the idempotent writes
 * absorb the repeat.
 */
@Component
public class InboundListener {

    private final RecordProcessor processor;
    private final ConversationEvents events;
    private final StoreDurability durability;
    private final RecordTracing tracing;

    public InboundListener(RecordProcessor processor, ConversationEvents events, ObjectProvider<StoreDurability> durability,
                           RecordTracing tracing) {
        this.processor = processor;
        this.events = events;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.tracing = tracing;
    }

    @KafkaListener(id = "router-inbound", containerFactory = "routerListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).allInbound()}",
            groupId = "${switchboard.router.group-id}",
            properties = "group.instance.id=${switchboard.router.instance-id}-inbound")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<ConversationEvent> changes = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            tracing.process(record, changes, () -> processor.process(record, pending, changes, false));
        }
        durability.commit();
        pending.addAll(tracing.publish(changes, events::publish));
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    }
}
