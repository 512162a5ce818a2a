package io.switchboard.router.webform;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.Thread;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A contact-form submission (channel-webform's JSON document, docs/channels/webform.md) to one
 * customer message that opens its own conversation: identity by email, login, project and topic
 * as first-class contact and conversation fields, files inline.
 */
public final class WebformNormalizer implements Normalizer {

    @Override
    public Channel channel() {
        return Channel.WEBFORM;
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        JsonNode doc;
        try {
            doc = ContractJson.mapper().readTree(envelope.payloadText());
        } catch (JacksonException e) {
            throw new MalformedEventException("web form submission is not JSON");
        }
        if (doc == null || !doc.isObject()) {
            throw new MalformedEventException("web form submission is not a JSON object");
        }
        String id = text(doc, "submissionId");
        String email = text(doc, "email");
        if (id == null || !id.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new MalformedEventException("web form submission without a usable submissionId");
        }
        if (email == null || !email.contains("@")) {
            throw new MalformedEventException("web form submission without an email address");
        }
        Instant at;
        try {
            at = text(doc, "submittedAt") == null ? envelope.receivedAt() : Instant.parse(text(doc, "submittedAt"));
        } catch (DateTimeParseException e) {
            throw new MalformedEventException("web form submission with a bad submittedAt");
        }
        String account = envelope.account();
        String key = "webform:" + account + ":" + id;

        List<Attachment> attachments = new ArrayList<>();
        Map<String, byte[]> contents = new LinkedHashMap<>();
        int n = 0;
        for (JsonNode f : doc.path("attachments")) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(f.path("data").asString(""));
            } catch (IllegalArgumentException e) {
                throw new MalformedEventException("web form attachment " + (n + 1) + " is not base64");
            }
            String ref = "webform-" + account + "-" + id + "-" + (++n);
            attachments.add(new Attachment(f.path("name").asString("file"), f.path("contentType").asString("application/octet-stream"),
                    (long) bytes.length, "file", ref));
            contents.put(ref, bytes);
        }

        Map<String, String> fields = new LinkedHashMap<>();
        putIfPresent(fields, "login", text(doc, "login"));
        putIfPresent(fields, "project", text(doc, "project"));
        putIfPresent(fields, "topic", text(doc, "topic"));
        String subject = text(doc, "topicLabel") != null ? text(doc, "topicLabel") : text(doc, "topic");
        String message = doc.path("message").asString("");
        // One conversation per submission: the customer's later emails thread by email, not here.
        Thread thread = new Thread(key, List.of(), null);
        return List.of(new CustomerMessage(key, id, new Identity("email", email), text(doc, "name"), thread,
                Map.of("email", email.trim().toLowerCase(java.util.Locale.ROOT)), at, subject, message, attachments, null,
                false, fields, contents));
    }

    private static String text(JsonNode doc, String field) {
        JsonNode n = doc.path(field);
        if (!n.isValueNode() || n.isNull()) {
            return null;
        }
        String s = n.asString("").strip();
        return s.isEmpty() ? null : s;
    }

    private static void putIfPresent(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }
}
