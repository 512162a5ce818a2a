package io.switchboard.router.normalize;

import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What a raw channel event means for the inbox, independent of the channel. */
public sealed interface DomainChange {

    /**
     * How a message finds its conversation.
     *
     * @param threadKey    the key this message's thread is known by from now on (a chat, an email Message-ID)
     * @param lookupKeys   keys of earlier messages this one answers (email In-Reply-To and References):
     *                     a match on any of them joins that conversation
     * @param reopenWindow for chat channels: a message this long after resolution starts a new
     *                     conversation instead of reopening; null = always reopen
     */
    record Thread(String threadKey, List<String> lookupKeys, Duration reopenWindow) {
        public Thread {
            lookupKeys = lookupKeys == null ? List.of() : List.copyOf(lookupKeys);
        }

        public static Thread chat(String key) {
            return new Thread(key, List.of(), ChatDefaults.REOPEN_WINDOW);
        }
    }

    /**
     * A customer wrote to us.
     *
     * @param messageKey   idempotency key (channel:account:message id)
     * @param externalId   the channel's message id
     * @param sender       who wrote
     * @param senderName   their display name, if the channel tells
     * @param replyAddress where a reply on this channel goes (chat_id, email, peer_id, psid)
     * @param automatic    an auto-reply: stored, but starts and satisfies no SLA clock
     * @param contactFields login, project and other profile fields the channel carries
     * @param contents     bytes of attachments that arrived inline (web form uploads, email parts), by
     *                     {@link Attachment#ref()}; channels that fetch files lazily leave it empty
     * @param meta         details stored on the message for agents, e.g. {@code warnings}: what was wrong with
     *                     the original and how it was read anyway (a broken email); empty for most messages
     */
    record CustomerMessage(
            String messageKey,
            String externalId,
            Identity sender,
            String senderName,
            Thread thread,
            Map<String, String> replyAddress,
            Instant sentAt,
            String subject,
            String text,
            List<Attachment> attachments,
            String replyToExternalId,
            boolean automatic,
            Map<String, String> contactFields,
            Map<String, byte[]> contents,
            Map<String, String> meta) implements DomainChange {
        public CustomerMessage {
            meta = meta == null ? Map.of() : Map.copyOf(meta);
            attachments = attachments == null ? List.of() : List.copyOf(attachments);
            replyAddress = replyAddress == null ? Map.of() : Map.copyOf(replyAddress);
            contactFields = contactFields == null ? Map.of() : Map.copyOf(contactFields);
            contents = contents == null ? Map.of() : Map.copyOf(contents);
        }

        public CustomerMessage(String messageKey, String externalId, Identity sender, String senderName, Thread thread,
                               Map<String, String> replyAddress, Instant sentAt, String subject, String text,
                               List<Attachment> attachments, String replyToExternalId, boolean automatic,
                               Map<String, String> contactFields, Map<String, byte[]> contents) {
            this(messageKey, externalId, sender, senderName, thread, replyAddress, sentAt, subject, text, attachments,
                    replyToExternalId, automatic, contactFields, contents, Map.of());
        }

        public CustomerMessage(String messageKey, String externalId, Identity sender, String senderName, Thread thread,
                               Map<String, String> replyAddress, Instant sentAt, String subject, String text,
                               List<Attachment> attachments, String replyToExternalId, boolean automatic,
                               Map<String, String> contactFields) {
            this(messageKey, externalId, sender, senderName, thread, replyAddress, sentAt, subject, text, attachments,
                    replyToExternalId, automatic, contactFields, Map.of());
        }
    }

    /** A customer changed the text of an earlier message. */
    record MessageEdited(String messageKey, String text, Instant editedAt) implements DomainChange {
    }

    /**
     * A message sent from our side came back through the channel (Telegram has none; VK
     * message_reply, Messenger is_echo, our own email). Matched to the outbound message by its
     * channel message key; if none matches (an agent typed in the channel's own app), it is
     * recorded as an outbound message of the conversation.
     */
    record OwnMessageEchoed(String messageKey, String externalId, Thread thread, Identity recipient,
                            Instant sentAt, String text, Map<String, String> replyAddress) implements DomainChange {
        public OwnMessageEchoed {
            replyAddress = replyAddress == null ? Map.of() : Map.copyOf(replyAddress);
        }

        /** An echo that carries no reply address (the conversation gets one when the customer writes). */
        public OwnMessageEchoed(String messageKey, String externalId, Thread thread, Identity recipient, Instant sentAt,
                                String text) {
            this(messageKey, externalId, thread, recipient, sentAt, text, Map.of());
        }
    }

    /**
     * The channel reports what became of our messages: delivered or read (Messenger, VK), or failed
     * (an email bounce). Either by message keys, or for everything sent to the recipient up to the
     * watermark when the channel reports that way (Messenger read/delivery watermarks).
     *
     * @param status delivered, read or failed
     * @param reason for failed: the diagnostic agents see ("550 5.1.1 mailbox unavailable")
     */
    record DeliveryReceipt(Identity recipient, List<String> messageKeys, Instant watermark, String status, String reason)
            implements DomainChange {
        public DeliveryReceipt {
            messageKeys = messageKeys == null ? List.of() : List.copyOf(messageKeys);
        }
    }

    /** A phone call happened (answered or missed, either direction). */
    record CallRecord(String callKey, Identity customer, String direction, String disposition, Instant startedAt,
                      Instant answeredAt, Instant endedAt, String agent, String recordingUrl, Thread thread)
            implements DomainChange {
    }

    /** What we know about a contact changed (reachable, a new identity, profile fields). */
    record ContactUpdate(Identity identity, String displayName, Boolean reachable, List<Identity> moreIdentities,
                         Map<String, String> fields) implements DomainChange {
        public ContactUpdate {
            moreIdentities = moreIdentities == null ? List.of() : List.copyOf(moreIdentities);
            fields = fields == null ? Map.of() : Map.copyOf(fields);
        }
    }

    /**
     * The bytes of a file a channel delivered separately from its message (Telegram files fetched
     * by the adapter after the update), stored under the attachment's ref.
     */
    record FileContent(String ref, String name, String contentType, byte[] bytes) implements DomainChange {
    }

    /** A well-formed event that means nothing for the inbox; counted by reason. */
    record Ignored(String reason) implements DomainChange {
    }

    /** Defaults shared by the chat channels. */
    final class ChatDefaults {
        /** A chat message within this time after resolution reopens the conversation. */
        public static final Duration REOPEN_WINDOW = Duration.ofDays(7);

        private ChatDefaults() {
        }
    }
}
