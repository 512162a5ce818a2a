package io.switchboard.channel.social.vk;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sends agents' replies with messages.send (https://dev.vk.com/en/method/messages.send), or as a
 * community comment with wall.createComment for wall conversations, and reports each outcome.
 *
 * <p>{@code random_id} is derived from our message id, so a command sent again after a crash is
 * deduplicated by VK instead of reaching the customer twice. Errors 6, 9 and 10 and transport
 * failures are retried with backoff; 901 and the rest end as failed with a reason agents can read.
 */
@Component
class VkSender {

    private static final Logger log = LoggerFactory.getLogger(VkSender.class);
    /** messages.send takes at most 4096 characters per message. */
    static final int MAX_TEXT = 4096;
    /** Peer ids from this value on are group chats (https://dev.vk.com/en/method/messages.send, peer_id). */
    static final long CHAT_PEER_BASE = 2_000_000_000L;

    private final VkProperties properties;
    private final VkClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final Sleeper sleeper;

    VkSender(VkProperties properties, VkClient client, KafkaTemplate<String, byte[]> kafka,
             ObjectProvider<Clock> clock, ObjectProvider<Sleeper> sleeper) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.sleeper = sleeper.getIfAvailable(() -> Thread::sleep);
    }

    /** Waits between attempts; replaceable in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    @KafkaListener(id = "vk-sender", containerFactory = "vkListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).outbound(T(io.switchboard.contract.Channel).VK)}",
            groupId = "switchboard-channel-vk",
            properties = "group.instance.id=vk-${switchboard.instance-id}")
    void onCommand(ConsumerRecord<String, byte[]> record) throws Exception {
        OutboundCommand command;
        try {
            command = ContractJson.fromBytes(record.value(), OutboundCommand.class);
        } catch (ContractJson.UndecodableRecordException e) {
            log.warn("skipping undecodable outbound command at {}-{}@{}", record.topic(), record.partition(), record.offset());
            return;
        }
        DeliveryReport report = send(command);
        kafka.send(Topics.DELIVERY_REPORTS, command.conversationId(), ContractJson.toBytes(report)).get(30, TimeUnit.SECONDS);
    }

    DeliveryReport send(OutboundCommand command) throws InterruptedException {
        VkProperties.Account account = properties.account(command.account());
        if (account == null || !account.canSend()) {
            return DeliveryReport.failed(command, "VK account '" + command.account() + "' has no access token configured", 0, clock.instant());
        }
        String peer = command.recipient().get("peer_id");
        String post = command.recipient().get("post_id");
        boolean wall = (peer == null || peer.isBlank()) && post != null && !post.isBlank();
        if (!wall && (peer == null || !peer.matches("-?\\d+"))) {
            return DeliveryReport.failed(command, "no VK peer to reply to", 0, clock.instant());
        }
        String text = command.text() == null ? "" : command.text();
        if (text.isBlank() && command.attachments().isEmpty()) {
            return DeliveryReport.failed(command, "empty reply: no text and no attachments", 0, clock.instant());
        }
        String attachment = null;
        int attempts = 0;
        if (!command.attachments().isEmpty()) {
            if (wall) {
                return DeliveryReport.failed(command, "attachments cannot be sent to VK wall comments", 0, clock.instant());
            }
            Uploaded uploaded = upload(account, peer, command.attachments());
            attempts += uploaded.attempts();
            if (uploaded.failure() != null) {
                return DeliveryReport.failed(command, uploaded.failure(), attempts, clock.instant());
            }
            attachment = uploaded.attachment();
        }
        List<String> parts = split(text);
        String firstId = null;
        for (int i = 0; i < parts.size(); i++) {
            Map<String, String> params = new LinkedHashMap<>();
            String method;
            if (wall) {
                method = "wall.createComment";
                params.put("owner_id", command.recipient().getOrDefault("wall_owner_id", "-" + account.groupId().trim()));
                params.put("post_id", post);
                params.put("from_group", account.groupId().trim());
                String comment = command.recipient().get("comment_id");
                if (comment != null && !comment.isBlank()) {
                    params.put("reply_to_comment", comment);
                }
                params.put("message", parts.get(i));
                params.put("guid", command.messageId() + ":" + i);
            } else {
                method = "messages.send";
                // For group chats peer_ids makes VK answer with the conversation_message_id, the only
                // id a community gets there; for dialogs peer_id answers with the message id.
                params.put(Long.parseLong(peer) >= CHAT_PEER_BASE ? "peer_ids" : "peer_id", peer);
                params.put("random_id", String.valueOf(randomId(command.messageId(), i)));
                params.put("message", parts.get(i));
                if (i == 0 && attachment != null) {
                    params.put("attachment", attachment);
                }
            }
            VkClient.Result result = null;
            for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
                attempts++;
                result = client.call(account, method, params);
                if (result.ok() || !result.transientFailure()) {
                    break;
                }
                if (attempt < properties.sendAttempts()) {
                    sleeper.sleep(Math.min(30_000, 500L << attempt));
                }
            }
            if (!result.ok()) {
                return DeliveryReport.failed(command, (i > 0 ? "part " + (i + 1) + " of " + parts.size() + ": " : "")
                        + reason(result), attempts, clock.instant());
            }
            if (firstId == null) {
                firstId = externalId(result);
            }
        }
        return DeliveryReport.sent(command, firstId, attempts, clock.instant());
    }

    /** VK attachment ids ("doc<owner>_<id>,...") of uploaded files, or why they could not be uploaded. */
    record Uploaded(String attachment, String failure, int attempts) {
    }

    /**
     * Uploads each file as a document of the dialog (https://dev.vk.com/en/api/upload/document-in-dialog):
     * docs.getMessagesUploadServer, a multipart POST of the bytes, docs.save.
     */
    Uploaded upload(VkProperties.Account account, String peer, List<OutboundCommand.Attachment> files) throws InterruptedException {
        List<String> ids = new ArrayList<>();
        int attempts = 0;
        for (OutboundCommand.Attachment file : files) {
            String name = file.name() == null || file.name().isBlank() ? "file" : file.name();
            byte[] bytes = file.url() == null ? null : client.download(file.url());
            if (bytes == null) {
                return new Uploaded(null, "attachment '" + name + "' could not be fetched for sending", attempts);
            }
            VkClient.Result server = retried(account, "docs.getMessagesUploadServer", Map.of("type", "doc", "peer_id", peer));
            attempts++;
            if (!server.ok()) {
                return new Uploaded(null, "attachment '" + name + "': " + reason(server), attempts);
            }
            VkClient.Result uploaded = client.upload(server.response().path("upload_url").asString(), name, bytes);
            attempts++;
            if (!uploaded.ok() || !uploaded.response().hasNonNull("file")) {
                return new Uploaded(null, "attachment '" + name + "' was not accepted by VK's upload server"
                        + (uploaded.errorMessage() != null ? ": " + uploaded.errorMessage() : ""), attempts);
            }
            VkClient.Result saved = retried(account, "docs.save", Map.of("file", uploaded.response().path("file").asString(), "title", name));
            attempts++;
            if (!saved.ok()) {
                return new Uploaded(null, "attachment '" + name + "': " + reason(saved), attempts);
            }
            var doc = saved.response().path("doc");
            ids.add("doc" + doc.path("owner_id").asString() + "_" + doc.path("id").asString());
        }
        return new Uploaded(String.join(",", ids), null, attempts);
    }

    private VkClient.Result retried(VkProperties.Account account, String method, Map<String, String> params) throws InterruptedException {
        VkClient.Result result = null;
        for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
            result = client.call(account, method, params);
            if (result.ok() || !result.transientFailure()) {
                break;
            }
            if (attempt < properties.sendAttempts()) {
                sleeper.sleep(Math.min(30_000, 500L << attempt));
            }
        }
        return result;
    }

    /** messages.send answers the message id (peer_id), or [{peer_id, message_id, conversation_message_id}] (peer_ids). */
    static String externalId(VkClient.Result result) {
        var r = result.response();
        if (r.isArray() && !r.isEmpty()) {
            var first = r.get(0);
            if (first.path("conversation_message_id").canConvertToLong() && first.path("message_id").asLong(0) == 0) {
                return "c" + first.path("conversation_message_id").asString();
            }
            return first.path("message_id").asString(null);
        }
        if (r.isObject() && r.has("comment_id")) {
            return r.path("comment_id").asString();
        }
        return r.isValueNode() ? r.asString() : null;
    }

    static String reason(VkClient.Result result) {
        return switch (result.errorCode()) {
            case 901 -> "can't send messages for users without permission (VK error 901: the customer has not allowed the community to write)";
            case 902 -> "can't send messages to this user due to their privacy settings (VK error 902)";
            case 5 -> "VK rejected the community access token (VK error 5)";
            case 6, 9 -> "VK rate limit still hit after retries (VK error " + result.errorCode() + ")";
            case 0 -> result.errorMessage() != null ? result.errorMessage() : "VK answered HTTP " + result.httpStatus();
            default -> result.errorMessage() + " (VK error " + result.errorCode() + ")";
        };
    }

    /**
     * A positive 31-bit id from our message id and part number: the same command always gets the
     * same random_id, different ones practically never do.
     */
    static int randomId(String messageId, int part) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((messageId + ":" + part).getBytes(StandardCharsets.UTF_8));
            int id = ByteBuffer.wrap(digest).getInt() & 0x7fffffff;
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits at the limit, preferring a line break or a space, never inside a surrogate pair. */
    static List<String> split(String text) {
        List<String> parts = new ArrayList<>();
        String rest = text;
        while (rest.length() > MAX_TEXT) {
            int cut = rest.lastIndexOf('\n', MAX_TEXT);
            if (cut < MAX_TEXT / 2) {
                cut = rest.lastIndexOf(' ', MAX_TEXT);
            }
            if (cut < MAX_TEXT / 2) {
                cut = MAX_TEXT;
                if (Character.isHighSurrogate(rest.charAt(cut - 1))) {
                    cut--;
                }
            }
            parts.add(rest.substring(0, cut));
            rest = rest.substring(cut).stripLeading();
        }
        parts.add(rest);
        return parts;
    }
}
