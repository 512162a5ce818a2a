package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.api.security.Visibility;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreDurability;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Merging two conversations of one contact (ADR 0141), and tag changes: agents' edits of a
 * conversation beyond status, priority and assignee, each announced on the conversation events topic.
 */
@RestController
class Merges {

    /** Event type of a merge, on the merged (source) conversation; data: into, by. */
    static final String CONVERSATION_MERGED = "conversation.merged";

    private final InboxStore store;
    private final Visibility visibility;
    private final KafkaTemplate<String, byte[]> kafka;
    private final StoreDurability durability;
    private final Clock clock;

    Merges(InboxStore store, Visibility visibility, KafkaTemplate<String, byte[]> kafka,
           ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.store = store;
        this.visibility = visibility;
        this.kafka = kafka;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record MergeRequest(String into) {
    }

    record MergeResult(String id, String mergedInto, String mergedBy, Instant mergedAt, Instant completedAt, int messagesCopied) {
    }

    /**
     * Merges this conversation into {@code into}. Repeating it (or retrying after a failure) is
     * safe and completes a merge left half done; merging it into a different one afterwards is refused.
     */
    @PostMapping("/api/conversations/{id}/merge")
    MergeResult merge(@PathVariable String id, @RequestBody(required = false) MergeRequest body, Authentication user) {
        if (body == null || body.into() == null || body.into().isBlank()) {
            throw ApiException.badRequest("into is required: the id of the conversation to merge this one into");
        }
        Conversation source = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        Conversation target = store.find(body.into()).filter(c -> visibility.canSee(user, c))
                .orElseThrow(() -> ApiException.notFound("no conversation " + body.into()));
        InboxStore.ConversationMerge merge;
        try {
            merge = store.mergeConversation(source.id(), target.id(), user.getName(), clock.instant());
        } catch (IllegalArgumentException refused) {
            throw ApiException.badRequest(refused.getMessage());
        }
        durability.commit();
        // stable event ids: a repeated merge announces nothing new to consumers that dedup
        publish(new ConversationEvent(ConversationEvent.SCHEMA_VERSION, CONVERSATION_MERGED + ":" + source.id(),
                CONVERSATION_MERGED, source.id(), null, Channel.fromWire(source.channel()), merge.at(),
                Map.of("into", target.id(), "by", merge.by(), "status", Conversation.MERGED)));
        publish(new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                ConversationEvent.CONVERSATION_UPDATED + ":" + target.id() + ":merge:" + source.id(),
                ConversationEvent.CONVERSATION_UPDATED, target.id(), null, Channel.fromWire(target.channel()), merge.at(),
                Map.of("mergedFrom", source.id(), "by", merge.by())));
        return new MergeResult(source.id(), merge.into(), merge.by(), merge.at(), merge.completedAt(), merge.messagesCopied());
    }

    /** Replaces, adds and removes tags in one atomic change; announces the new set if it changed. */
    List<String> retag(Conversation c, List<String> replace, List<String> add, List<String> remove) {
        Instant now = clock.instant();
        List<String> before = c.tags() == null ? List.of() : c.tags();
        List<String> after = store.updateTags(c.id(), current -> Tags.apply(current, replace, add, remove), now)
                .orElseThrow(() -> ApiException.notFound("no conversation " + c.id()));
        durability.commit();
        if (!after.equals(before)) {
            Map<String, String> data = new LinkedHashMap<>();
            data.put("tags", String.join(",", after));
            publish(new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                    ConversationEvent.CONVERSATION_UPDATED + ":" + c.id() + ":" + now.toEpochMilli(),
                    ConversationEvent.CONVERSATION_UPDATED, c.id(), null, Channel.fromWire(c.channel()), now, data));
        }
        return after;
    }

    private void publish(ConversationEvent event) {
        try {
            kafka.send(Topics.CONVERSATION_EVENTS, event.conversationId(), ContractJson.toBytes(event)).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "the change is saved but could not be announced; try again");
        }
    }
}
