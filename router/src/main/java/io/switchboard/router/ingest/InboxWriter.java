package io.switchboard.router.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.RouterProperties;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CallRecord;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.router.phone.CallEntries;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.InboxStore.MessageKey;
import io.switchboard.store.InboxStore.ThreadRequest;
import io.switchboard.store.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Applies normalized changes to the store. Every step is idempotent, and ids are derived from
 * channel keys rather than generated, so applying the same raw event twice (redelivery, replay)
 * changes nothing the second time.
 */
@Component
public class InboxWriter {

    private static final Logger log = LoggerFactory.getLogger(InboxWriter.class);

    private final InboxStore store;
    private final MeterRegistry meters;
    private final RouterProperties properties;

    public InboxWriter(InboxStore store, MeterRegistry meters, RouterProperties properties) {
        this.store = store;
        this.meters = meters;
        this.properties = properties;
    }

    /** The configured reopen window of the channel, else the normalizer's default for the thread. */
    private Duration reopenWindow(InboundEnvelope env, DomainChange.Thread thread) {
        return properties.reopenWindow().getOrDefault(env.channel().wire(), thread.reopenWindow());
    }

    /** @return the domain events to publish for what this call changed */
    public List<ConversationEvent> apply(InboundEnvelope envelope, List<DomainChange> changes) {
        return apply(envelope, changes, false);
    }

    /**
     * @param refresh a replay: messages already stored take the new normalization result
     *                (see {@link InboxStore#refreshMessage}) instead of being left as they are
     */
    public List<ConversationEvent> apply(InboundEnvelope envelope, List<DomainChange> changes, boolean refresh) {
        try {
            return applyAll(envelope, changes, refresh);
        } finally {
            org.slf4j.MDC.remove("conversation");
        }
    }

    private List<ConversationEvent> applyAll(InboundEnvelope envelope, List<DomainChange> changes, boolean refresh) {
        List<ConversationEvent> events = new ArrayList<>();
        for (DomainChange change : changes) {
            if (change instanceof CustomerMessage m) {
                customerMessage(envelope, m, refresh, events);
            } else if (change instanceof MessageEdited e) {
                edited(envelope, e, events);
            } else if (change instanceof ContactUpdate u) {
                contactUpdate(envelope, u);
            } else if (change instanceof OwnMessageEchoed e) {
                echo(envelope, e, true, events);
            } else if (change instanceof DeliveryReceipt r) {
                receipt(envelope, r, events);
            } else if (change instanceof CallRecord c) {
                call(envelope, c, events);
            } else if (change instanceof DomainChange.FileContent f) {
                saveFile(envelope, f.ref(), f.name(), f.contentType(), f.bytes(), null);
            } else if (change instanceof Ignored i) {
                ignored(envelope, i.reason());
            }
        }
        return events;
    }

    static String messageIdFor(String key) {
        return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private void customerMessage(InboundEnvelope env, CustomerMessage m, List<ConversationEvent> events) {
        customerMessage(env, m, false, events, "message", m.meta());
    }

    private void customerMessage(InboundEnvelope env, CustomerMessage m, boolean refresh, List<ConversationEvent> events) {
        customerMessage(env, m, refresh, events, "message", m.meta());
    }

    private void customerMessage(InboundEnvelope env, CustomerMessage m, List<ConversationEvent> events, String kind,
                                 Map<String, String> meta) {
        customerMessage(env, m, false, events, kind, meta);
    }

    private void customerMessage(InboundEnvelope env, CustomerMessage m, boolean refresh, List<ConversationEvent> events,
                                 String kind, Map<String, String> meta) {
        String conversationId;
        boolean opened = false;
        boolean reopened = false;
        Optional<MessageKey> known = store.messageKey(m.messageKey());
        if (known.isPresent()) {
            conversationId = known.get().conversationId();
        } else {
            io.switchboard.store.Contact contact = store.contactRecordFor(m.sender(), m.senderName(), m.sentAt());
            String contactId = contact.id();
            if (!m.contactFields().isEmpty()) {
                store.enrichContact(contactId, List.of(), m.contactFields(), m.sentAt());
            }
            String contactName = contact.displayName() != null ? contact.displayName() : m.senderName();
            Conversation c = store.conversationFor(new ThreadRequest(env.channel().wire(), env.account(),
                    m.thread().threadKey(), m.thread().lookupKeys(), contactId, contactName, m.subject(),
                    m.replyAddress(), m.sentAt(), reopenWindow(env, m.thread())));
            opened = c.firstMessageAt() == null;
            reopened = m.sentAt().equals(c.reopenedAt()); // a resolved conversation reopened by this message
            conversationId = store.claimMessageKey(m.messageKey(), c.id(), null).conversationId();
            if (!m.contactFields().isEmpty()) {
                store.setConversationFields(conversationId, m.contactFields());
            }
        }
        // the conversation in every log line from here on (structured logs carry the MDC); removed in apply()
        org.slf4j.MDC.put("conversation", conversationId);
        Message message = new Message(messageIdFor(m.messageKey()), m.messageKey(), Message.INBOUND, kind,
                env.channel().wire(), m.externalId(), m.sentAt(), m.senderName(), m.text(), m.attachments(),
                null, null, m.replyToExternalId(), null, null, m.automatic(), meta);
        // Files first: a message is never visible with an attachment whose bytes are missing.
        for (io.switchboard.store.Attachment a : m.attachments()) {
            byte[] bytes = a.ref() == null ? null : m.contents().get(a.ref());
            if (bytes != null) {
                saveFile(env, a.ref(), a.name(), a.contentType(), bytes, conversationId);
            }
        }
        boolean added = store.appendMessage(conversationId, message);
        if (!added && refresh && store.refreshMessage(conversationId, message)) {
            events.add(event(ConversationEvent.MESSAGE_EDITED, conversationId, message.messageId(), env, m.sentAt(),
                    Map.of("reason", "replay")));
        }
        reopened |= store.recordCustomerMessage(conversationId, message);
        // with conversation, channel, account, event and trace in the MDC (RecordTracingTest reads this line)
        log.debug("inbound message {} {}", message.messageId(), added ? "stored" : "already stored");
        if (opened && added) {
            events.add(event(ConversationEvent.CONVERSATION_OPENED, conversationId, null, env, m.sentAt(), Map.of()));
        }
        if (reopened && !opened) {
            // the same shape as the API's status changes, so the queue and integrations see it move
            events.add(event(ConversationEvent.CONVERSATION_UPDATED, conversationId, null, env, m.sentAt(),
                    Map.of("status", Conversation.OPEN, "reason", "customer message")));
        }
        if (added) {
            events.add(event(ConversationEvent.MESSAGE_ADDED, conversationId, message.messageId(), env, m.sentAt(),
                    Map.of("direction", Message.INBOUND)));
        } else {
            // Stored by an earlier delivery whose events may never have gone out: a crash or a failed store
            // commit between a batch's writes and its events redelivers the batch, and the writes it finds
            // stored change nothing. Without this event the SLA tracker would never start the clocks of a
            // conversation with no later activity. Same event id; consumers take it as a repeat.
            events.add(event(ConversationEvent.MESSAGE_ADDED, conversationId, message.messageId(), env, m.sentAt(),
                    Map.of("direction", Message.INBOUND, ConversationEvents.REDELIVERED, "true")));
        }
    }

    private void edited(InboundEnvelope env, MessageEdited e, List<ConversationEvent> events) {
        Optional<MessageKey> known = store.messageKey(e.messageKey());
        if (known.isEmpty()) {
            ignored(env, "edit of a message never received");
            return;
        }
        if (store.editMessage(known.get().conversationId(), e.messageKey(), e.text(), e.editedAt())) {
            events.add(event(ConversationEvent.MESSAGE_EDITED, known.get().conversationId(), messageIdFor(e.messageKey()),
                    env, e.editedAt(), Map.of()));
        }
    }

    private void contactUpdate(InboundEnvelope env, ContactUpdate u) {
        java.time.Instant at = env.receivedAt();
        String contactId = store.contactFor(u.identity(), u.displayName(), at);
        if (!u.moreIdentities().isEmpty() || !u.fields().isEmpty()) {
            store.enrichContact(contactId, u.moreIdentities(), u.fields(), at);
        }
        if (u.reachable() != null) {
            store.markContactReachable(contactId, u.reachable(), at);
        }
    }

    private void echo(InboundEnvelope env, OwnMessageEchoed e, boolean response, List<ConversationEvent> events) {
        if (store.messageKey(e.messageKey()).isPresent()) {
            return; // our own reply, already recorded when the adapter reported it sent
        }
        // Typed by an agent in the channel's own app: it is part of the conversation all the same.
        String contactId = store.contactFor(e.recipient(), null, e.sentAt());
        Conversation c = store.conversationFor(new ThreadRequest(env.channel().wire(), env.account(),
                e.thread().threadKey(), e.thread().lookupKeys(), contactId, null, null, e.replyAddress(), e.sentAt(),
                reopenWindow(env, e.thread())));
        String conversationId = store.claimMessageKey(e.messageKey(), c.id(), messageIdFor(e.messageKey())).conversationId();
        Message message = new Message(messageIdFor(e.messageKey()), e.messageKey(), Message.OUTBOUND, "message",
                env.channel().wire(), e.externalId(), e.sentAt(), env.channel().wire() + " app", e.text(), List.of(),
                "sent", null, null, null, null, false);
        if (store.appendMessage(conversationId, message)) {
            events.add(event(ConversationEvent.MESSAGE_ADDED, conversationId, message.messageId(), env, e.sentAt(),
                    Map.of("direction", Message.OUTBOUND)));
        }
        if (response) {
            store.recordAgentResponse(conversationId, e.sentAt(), e.text());
        }
    }

    private void receipt(InboundEnvelope env, DeliveryReceipt r, List<ConversationEvent> events) {
        if (r.messageKeys().isEmpty() && r.watermark() != null && r.recipient() != null) {
            receiptUpToWatermark(env, r, events);
        }
        boolean matched = false;
        for (String key : r.messageKeys()) {
            Optional<MessageKey> known = store.messageKey(key);
            if (known.isEmpty() || known.get().outboundMessageId() == null) {
                continue;
            }
            matched = true;
            if (store.updateDelivery(known.get().conversationId(), known.get().outboundMessageId(), r.status(), null, r.reason())) {
                events.add(event(ConversationEvent.DELIVERY_UPDATED, known.get().conversationId(),
                        known.get().outboundMessageId(), env, r.watermark() != null ? r.watermark() : env.receivedAt(),
                        Map.of("deliveryStatus", r.status())));
            }
        }
        if (!r.messageKeys().isEmpty() && !matched) {
            // e.g. a bounce of mail sent from the mailbox by other means, or from before this inbox: seen, counted, not an error
            ignored(env, "receipt for a message not sent from here");
        }
    }

    /**
     * A receipt without keys (Messenger delivery/read watermarks): every message we sent this person
     * on this channel account at or before the watermark, and already accepted by the channel
     * (sent or delivered), moves to the receipt's status.
     */
    private void receiptUpToWatermark(InboundEnvelope env, DeliveryReceipt r, List<ConversationEvent> events) {
        Optional<String> contactId = store.contactOfIdentity(r.recipient());
        if (contactId.isEmpty()) {
            return;
        }
        for (String conversationId : store.conversationIdsOf(contactId.get(), env.channel().wire(), env.account())) {
            for (Message m : store.transcript(conversationId).map(io.switchboard.store.Transcript::messages).orElse(List.of())) {
                if (Message.OUTBOUND.equals(m.direction()) && m.messageId() != null && m.sentAt() != null
                        && !m.sentAt().isAfter(r.watermark())
                        && ("sent".equals(m.deliveryStatus()) || "delivered".equals(m.deliveryStatus()))
                        && store.updateDelivery(conversationId, m.messageId(), r.status(), null, r.reason())) {
                    events.add(new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                            ConversationEvent.DELIVERY_UPDATED + ":" + m.messageId() + ":" + r.status(),
                            ConversationEvent.DELIVERY_UPDATED, conversationId, m.messageId(), env.channel(), r.watermark(),
                            Map.of("deliveryStatus", r.status())));
                }
            }
        }
    }

    /**
     * A phone call. Inbound: a call entry in the caller's conversation that starts the customer's
     * waiting clock like a message (a missed call is a callback request; repeated missed calls from
     * one number land in the same open conversation, so they stay one request with the clock of the
     * first); an answered inbound call is handled on the spot and stops the clock at the answer.
     * Outbound: an entry of ours; only a call the customer picked up counts as our response.
     * Later events of the same call (ringing, answered, ended) complete the one entry by call key.
     */
    private void call(InboundEnvelope env, CallRecord c, List<ConversationEvent> events) {
        Optional<MessageKey> known = store.messageKey(c.callKey());
        // A claimed key whose entry is missing (a crash between the two writes) is written anew below.
        Optional<Message> existing = known.flatMap(k -> store.transcript(k.conversationId()))
                .flatMap(t -> t.messages().stream().filter(m -> c.callKey().equals(m.key())).findFirst());
        Map<String, String> meta = CallEntries.merge(existing.map(Message::meta).orElse(Map.of()), c);
        String text = CallEntries.text(meta);
        boolean inbound = Message.INBOUND.equals(meta.get("direction"));
        Instant startedAt = Instant.parse(meta.get("startedAt"));
        String conversationId;
        if (known.isPresent() && existing.isPresent()) {
            conversationId = known.get().conversationId();
            if (store.updateMessageMeta(conversationId, c.callKey(), text, meta)) {
                store.refreshPreview(conversationId, startedAt, text);
                events.add(event(ConversationEvent.MESSAGE_EDITED, conversationId, messageIdFor(c.callKey()), env,
                        startedAt, Map.of()));
            }
        } else if (inbound) {
            customerMessage(env, new CustomerMessage(c.callKey(), c.callKey(), c.customer(), null, c.thread(),
                    Map.of("phone", c.customer().value()), startedAt, null, text, List.of(), null, false, Map.of()),
                    events, "call", meta);
            conversationId = store.messageKey(c.callKey()).orElseThrow().conversationId();
        } else {
            String contactId = store.contactFor(c.customer(), null, startedAt);
            Conversation conversation = store.conversationFor(new ThreadRequest(env.channel().wire(), env.account(),
                    c.thread().threadKey(), c.thread().lookupKeys(), contactId, null, null,
                    Map.of("phone", c.customer().value()), startedAt, reopenWindow(env, c.thread())));
            conversationId = store.claimMessageKey(c.callKey(), conversation.id(), messageIdFor(c.callKey())).conversationId();
            Message message = new Message(messageIdFor(c.callKey()), c.callKey(), Message.OUTBOUND, "call",
                    env.channel().wire(), c.callKey(), startedAt, meta.get("agent"), text, List.of(), "sent", null, null,
                    null, null, false, meta);
            if (store.appendMessage(conversationId, message)) {
                events.add(event(ConversationEvent.MESSAGE_ADDED, conversationId, message.messageId(), env, startedAt,
                        Map.of("direction", Message.OUTBOUND)));
            }
        }
        if ("answered".equals(meta.get("disposition"))) {
            // Idempotent: a replayed or later event of an answered call moves nothing further.
            Instant answeredAt = meta.containsKey("answeredAt") ? Instant.parse(meta.get("answeredAt")) : startedAt;
            store.recordAgentResponse(conversationId, answeredAt, text);
        }
    }

    /**
     * A file is stored in one document, and MongoDB refuses documents over 16 MB: a larger file would
     * fail its batch on every retry and stop the partition. Its name, type and size stay on the
     * message; the bytes stay in the original (the raw event, or the mailbox for large mail).
     */
    static final int MAX_STORED_FILE_BYTES = 15 * 1024 * 1024;

    private void saveFile(InboundEnvelope env, String ref, String name, String contentType, byte[] bytes,
                          String conversationId) {
        if (bytes.length > MAX_STORED_FILE_BYTES) {
            meters.counter("switchboard.router.files.too.large", "channel", env.channel().wire()).increment();
            log.warn("file of {} bytes in {} event {} not stored: over {} bytes", bytes.length, env.channel().wire(),
                    env.eventId(), MAX_STORED_FILE_BYTES);
            return;
        }
        store.saveFile(ref, name, contentType, bytes, conversationId);
    }

    private void ignored(InboundEnvelope env, String reason) {
        meters.counter("switchboard.router.ignored", "channel", env.channel().wire(), "reason", reason).increment();
        log.debug("ignored {} event {}: {}", env.channel().wire(), env.eventId(), reason);
    }

    private static ConversationEvent event(String type, String conversationId, String messageId, InboundEnvelope env,
                                           java.time.Instant at, Map<String, String> data) {
        // a message's delivery moves through several statuses: each is its own event
        String eventId = type + ":" + conversationId + ":" + (messageId == null ? env.eventId() : messageId)
                + (data.containsKey("deliveryStatus") ? ":" + data.get("deliveryStatus") : "");
        return new ConversationEvent(ConversationEvent.SCHEMA_VERSION, eventId, type, conversationId, messageId,
                env.channel(), at, data);
    }
}
