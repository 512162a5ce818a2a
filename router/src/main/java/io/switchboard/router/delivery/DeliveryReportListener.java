package io.switchboard.router.delivery;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.router.ingest.ConversationEvents;
import io.switchboard.router.ingest.DeadLetters;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Applies adapters' delivery reports to outbound messages. A sent message is indexed under the
 * channel's message key (so the channel's echo of it is recognised) and counts as the agent's
 * response for the SLA clocks; a failed one shows the channel's reason to agents.
 */
@Component
public class DeliveryReportListener {

    private final InboxStore store;
    private final NormalizerRegistry normalizers;
    private final DeadLetters deadLetters;
    private final ConversationEvents events;
    private final StoreDurability durability;
    private final io.micrometer.core.instrument.MeterRegistry meters;
    private final io.switchboard.router.tracing.RecordTracing tracing;

    public DeliveryReportListener(InboxStore store, NormalizerRegistry normalizers, DeadLetters deadLetters,
                                  ConversationEvents events, ObjectProvider<StoreDurability> durability,
                                  io.micrometer.core.instrument.MeterRegistry meters,
                                  io.switchboard.router.tracing.RecordTracing tracing) {
        this.tracing = tracing;
        this.meters = meters;
        this.store = store;
        this.normalizers = normalizers;
        this.deadLetters = deadLetters;
        this.events = events;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
    }

    @KafkaListener(id = "router-delivery", containerFactory = "routerListenerFactory",
            autoStartup = "${switchboard.router.auto-startup:true}",
            topics = io.switchboard.contract.Topics.DELIVERY_REPORTS,
            groupId = "${switchboard.router.group-id}-delivery",
            properties = "group.instance.id=${switchboard.router.instance-id}-delivery")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<ConversationEvent> changes = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            DeliveryReport report;
            try {
                report = ContractJson.fromBytes(record.value(), DeliveryReport.class);
            } catch (ContractJson.UndecodableRecordException e) {
                pending.add(deadLetters.park(record, e.getMessage()));
                continue;
            }
            Optional<Conversation> conversation = report.conversationId() == null
                    ? Optional.empty() : store.find(report.conversationId());
            if (conversation.isEmpty()) {
                pending.add(deadLetters.park(record, "delivery report for unknown conversation"));
                continue;
            }
            DeliveryReport decoded = report;
            // in the trace of the adapter's send (its traceparent header), like inbound records
            tracing.process(record, changes, () -> {
                apply(decoded, conversation.get(), changes);
                return null;
            });
        }
        durability.commit();
        pending.addAll(tracing.publish(ConversationEvents.firstOfEachId(changes), events::publish));
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    }

    private void apply(DeliveryReport report, Conversation conversation, List<ConversationEvent> changes) {
        String status = report.status().wire();
        meters.counter("switchboard.router.delivery", "channel", report.channel().wire(), "status", status).increment();
        if (report.status() == DeliveryReport.Status.SENT && report.externalId() != null) {
            // a reply sent through another identity of the contact went out on that channel's account, whose
            // echoes and bounces carry that account: the key must name it, not the conversation's
            String account = report.account() != null ? report.account() : conversation.account();
            Map<String, String> address = report.channel().wire().equals(conversation.channel())
                    && conversation.replyAddress() != null ? conversation.replyAddress() : Map.of();
            String key = normalizers.forChannel(report.channel())
                    .map(n -> n.outboundMessageKey(account, address, report.externalId()))
                    .orElse(report.channel().wire() + ":" + account + ":" + report.externalId());
            store.claimMessageKey(key, conversation.id(), report.messageId());
            String text = store.message(conversation.id(), report.messageId()).map(Message::text).orElse(null);
            store.recordAgentResponse(conversation.id(), report.at(), text);
        }
        if (Boolean.TRUE.equals(report.recipientUnreachable()) && conversation.contactId() != null) {
            store.markContactReachable(conversation.contactId(), false, report.at());
        }
        if (store.updateDelivery(conversation.id(), report.messageId(), status, report.externalId(), report.failureReason())) {
            changes.add(deliveryUpdated(report, conversation, Map.of("deliveryStatus", status)));
        } else if (store.message(conversation.id(), report.messageId()).map(Message::deliveryStatus).filter(status::equals).isPresent()) {
            // already at this status: the report was applied before, maybe by a batch whose events never went out
            // (ADR 0003); the same event again lets the SLA tracker see the response
            changes.add(deliveryUpdated(report, conversation, Map.of("deliveryStatus", status, ConversationEvents.REDELIVERED, "true")));
        }
    }

    private static ConversationEvent deliveryUpdated(DeliveryReport report, Conversation conversation, Map<String, String> data) {
        return new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                ConversationEvent.DELIVERY_UPDATED + ":" + report.messageId() + ":" + report.status().wire(),
                ConversationEvent.DELIVERY_UPDATED, conversation.id(), report.messageId(), report.channel(), report.at(), data);
    }
}
