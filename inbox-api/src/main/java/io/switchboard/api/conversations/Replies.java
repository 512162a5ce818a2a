package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.api.files.FileLinks;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.StoreDurability;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.HttpStatus;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Agents' writes: a reply is stored as pending, then handed to the channel's adapter through
 * Kafka; the answer to the agent comes only after both are durable.
 */
@Component
class Replies {

    private static final Logger log = LoggerFactory.getLogger(Replies.class);
    static final String NOT_QUEUED_BROKER = "could not be queued for sending: message broker unavailable";

    private final InboxStore store;
    private final MongoTemplate mongo;
    private final KafkaTemplate<String, byte[]> kafka;
    private final StoreDurability durability;
    private final Clock clock;
    private final FileLinks fileLinks;

    Replies(InboxStore store, MongoTemplate mongo, KafkaTemplate<String, byte[]> kafka,
            ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock, FileLinks fileLinks) {
        this.fileLinks = fileLinks;
        this.store = store;
        this.mongo = mongo;
        this.kafka = kafka;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    Message send(Conversation c, String text, String author) {
        return send(c, text, author, List.of(), null);
    }

    /**
     * A reply with uploaded files, through the conversation's channel or, with {@code via}, through
     * another identity of its contact. The stored message names the channel it went through; the
     * command carries signed links the adapter downloads the files by (ADR 0150).
     */
    Message send(Conversation c, String text, String author, List<InboxStore.UploadInfo> files, ReplyRoutes.Route via) {
        return send(c, text, author, files, via, null);
    }

    /** @param replyTo the channel's id of the customer message this reply quotes, or null */
    Message send(Conversation c, String text, String author, List<InboxStore.UploadInfo> files, ReplyRoutes.Route via,
                 String replyTo) {
        Instant now = clock.instant();
        String messageId = UUID.randomUUID().toString();
        String channel = via == null ? c.channel() : via.channel();
        // the channel of this reply in the request's log lines (removed when the request ends: ConversationMdc)
        org.slf4j.MDC.put("channel", channel);
        String account = via == null ? c.account() : via.account();
        Map<String, String> recipient = via == null ? (c.replyAddress() == null ? Map.of() : c.replyAddress()) : via.recipient();
        List<io.switchboard.store.Attachment> stored = files.stream()
                .map(f -> new io.switchboard.store.Attachment(f.name(), f.contentType(), f.size(), "upload", f.ref())).toList();
        Map<String, String> meta = via == null ? Map.of() : Map.of("viaAccount", account, "viaIdentity", via.identity());
        Message message = new Message(messageId, "out:" + messageId, Message.OUTBOUND, "message", channel, null, now,
                author, text, stored, "pending", null, null, null, null, false, meta);
        // recorded first: if this process stops before the command's ack, ReplySweeper finds the reply
        // still pending and marks it failed instead of leaving it pending for ever
        store.sendStarted(c.id(), messageId, now);
        store.appendMessage(c.id(), message);
        durability.commit();

        // the customer's last message is a thread reference only where it came from (same channel and address)
        boolean sameThread = via == null || (channel.equals(c.channel()) && recipient.equals(c.replyAddress()));
        String inReplyTo = sameThread ? lastCustomerExternalId(c.id()) : null;
        List<OutboundCommand.Attachment> links = files.stream()
                .map(f -> new OutboundCommand.Attachment(f.name(), f.contentType(), f.size(), fileLinks.url(f.ref()))).toList();
        OutboundCommand command = new OutboundCommand(OutboundCommand.SCHEMA_VERSION, messageId, Channel.fromWire(channel),
                account, c.id(), recipient, text, replySubject(c),
                replyTo, inReplyTo == null ? List.of() : List.of(inReplyTo), links, now, author);
        try {
            kafka.send(Topics.outbound(command.channel()), c.id(), ContractJson.toBytes(command)).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("reply {} of conversation {} could not be queued: {}", messageId, c.id(), e.toString());
            // a timed-out send may still reach the broker: the channel's report then replaces this failure
            boolean guessed = store.markNotQueued(c.id(), messageId, NOT_QUEUED_BROKER);
            store.sendSettled(messageId);
            durability.commit();
            if (guessed) {
                throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "the reply could not be queued; it is marked failed, try again");
            }
            // the channel reported on it meanwhile: the command did reach the broker, and sending it again
            // would reach the customer twice
            message = store.message(c.id(), messageId).orElse(message);
        }
        try {
            store.sendSettled(messageId);
            durability.commit();
        } catch (RuntimeException e) {
            // the command is queued: an error now would make the agent send it again. The record left behind
            // only lets the sweeper guess a failure, which the channel's report replaces.
            log.warn("reply {} of conversation {} is queued but its send record stays: {}", messageId, c.id(), e.toString());
        }
        publish(c, ConversationEvent.MESSAGE_ADDED, messageId, now, via == null ? Map.of("direction", Message.OUTBOUND)
                : Map.of("direction", Message.OUTBOUND, "viaChannel", channel));
        return message;
    }

    void update(String id, String status, String priority, boolean assigneeGiven, String assignee) {
        Instant now = clock.instant();
        Update update = new Update().set("updatedAt", now);
        if (status != null) {
            update.set("status", status);
            if (Conversation.RESOLVED.equals(status)) {
                update.set("resolvedAt", now);
            } else {
                update.unset("resolvedAt");
            }
        }
        if (priority != null) {
            update.set("priority", priority);
        }
        if (assigneeGiven) {
            update.set("assignee", assignee);
        }
        // bump the version so the router's version-checked writes see the agent's change (InboxStore.VERSION)
        mongo.updateFirst(Query.query(where("_id").is(id)), update.inc(io.switchboard.store.InboxStore.VERSION, 1L), Conversation.class);
        durability.commit();
        Map<String, String> data = new HashMap<>();
        if (status != null) {
            data.put("status", status);
        }
        if (priority != null) {
            data.put("priority", priority);
        }
        if (assigneeGiven) {
            data.put("assignee", assignee == null ? "" : assignee);
        }
        store.find(id).ifPresent(c -> publish(c, ConversationEvent.CONVERSATION_UPDATED, null, now, data));
    }

    /**
     * Resolves a reply whose sending this or another instance started but never settled (the process stopped
     * before the command's ack): marks it failed, as the agent, who got no answer, will have assumed, and
     * announces that. If its command did reach the broker, the channel's report replaces the failure.
     * Returns false if the announcement could not be made, so the caller keeps the record and tries again.
     */
    boolean settleCutOff(InboxStore.SendInFlight send) {
        Optional<Conversation> c = store.find(send.conversationId());
        if (c.isPresent()) {
            store.markNotQueued(send.conversationId(), send.messageId(), NOT_QUEUED_STOPPED);
            durability.commit();
            Optional<Message> failed = store.message(send.conversationId(), send.messageId())
                    .filter(m -> "failed".equals(m.deliveryStatus()));
            if (failed.isPresent()) {
                // the reply's own channel: one sent through another identity of the contact names that one
                String channel = failed.get().channel() != null ? failed.get().channel() : c.get().channel();
                ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                        ConversationEvent.DELIVERY_UPDATED + ":" + send.messageId() + ":failed", ConversationEvent.DELIVERY_UPDATED,
                        c.get().id(), send.messageId(), Channel.fromWire(channel), clock.instant(),
                        Map.of("deliveryStatus", "failed"));
                try {
                    kafka.send(Topics.CONVERSATION_EVENTS, c.get().id(), ContractJson.toBytes(event)).get(15, TimeUnit.SECONDS);
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    log.warn("reply {} of conversation {} is marked failed but could not be announced: {}", send.messageId(),
                            c.get().id(), e.toString());
                    return false;
                }
            }
        }
        store.sendSettled(send.messageId());
        durability.commit();
        return true;
    }

    static final String NOT_QUEUED_STOPPED = "not confirmed as queued for sending: the service stopped while sending it; "
            + "if the customer has not got it, send it again";

    private void publish(Conversation c, String type, String messageId, Instant at, Map<String, String> data) {
        ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                type + ":" + c.id() + ":" + (messageId != null ? messageId : at.toEpochMilli()), type, c.id(), messageId,
                Channel.fromWire(c.channel()), at, data);
        // The SLA tracker and live views depend on these events, so the agent's answer waits for the broker.
        // The change itself is already stored: if the broker fails here, the agent sees an error and can retry.
        try {
            kafka.send(Topics.CONVERSATION_EVENTS, c.id(), ContractJson.toBytes(event)).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "the change is saved but could not be announced; try again");
        }
    }

    private String lastCustomerExternalId(String conversationId) {
        // by time: after a merge the stored order can put an older message last (Transcript)
        return store.transcript(conversationId)
                .flatMap(t -> t.latest(m -> Message.INBOUND.equals(m.direction()) && m.externalId() != null))
                .map(Message::externalId).orElse(null);
    }

    private static String replySubject(Conversation c) {
        if (c.subject() == null || c.subject().isBlank()) {
            return null;
        }
        return c.subject().regionMatches(true, 0, "Re:", 0, 3) ? c.subject() : "Re: " + c.subject();
    }
}
