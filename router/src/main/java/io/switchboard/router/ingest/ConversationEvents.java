package io.switchboard.router.ingest;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Publishes domain events, keyed by conversation so each conversation's events stay in order. */
@Component
public class ConversationEvents {

    private final KafkaTemplate<String, byte[]> kafka;

    public ConversationEvents(KafkaTemplate<String, byte[]> kafka) {
        this.kafka = kafka;
    }

    /**
     * Marks an event made again for a write found already stored: a batch redelivered after its writes
     * but before its events went out would otherwise announce nothing (ADR 0003). Same event id.
     */
    public static final String REDELIVERED = "redelivered";

    /**
     * A record delivered twice in one batch (a channel's retry) makes its events twice, the second
     * time as a repeat: one event per id goes out, the first.
     */
    public static List<ConversationEvent> firstOfEachId(List<ConversationEvent> changes) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<ConversationEvent> out = new ArrayList<>(changes.size());
        for (ConversationEvent e : changes) {
            if (seen.add(e.eventId())) {
                out.add(e);
            }
        }
        return out;
    }

    public List<CompletableFuture<?>> publish(List<ConversationEvent> events) {
        List<CompletableFuture<?>> sends = new ArrayList<>(events.size());
        for (ConversationEvent e : events) {
            sends.add(kafka.send(Topics.CONVERSATION_EVENTS, e.conversationId(), ContractJson.toBytes(e)));
        }
        return sends;
    }
}
