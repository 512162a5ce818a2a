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

    public List<CompletableFuture<?>> publish(List<ConversationEvent> events) {
        List<CompletableFuture<?>> sends = new ArrayList<>(events.size());
        for (ConversationEvent e : events) {
            sends.add(kafka.send(Topics.CONVERSATION_EVENTS, e.conversationId(), ContractJson.toBytes(e)));
        }
        return sends;
    }
}
