package io.switchboard.router.phone;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CallRecord;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.Thread;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.Normalizer;
import io.switchboard.store.Identity;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PBX call events (channel-phone; formats in docs/channels/phone.md) to {@link CallRecord}s. The
 * customer is the external party, in E.164 for the region the adapter put in {@code externalIds.region};
 * local PBX times are read in {@code externalIds.time_zone}. Partial events of one call share the
 * call key and are merged by the router into one call entry.
 *
 * <p>Dispositions: {@code ringing} (not final yet), {@code answered}, and the missed ones
 * {@code no-answer}, {@code busy}, {@code failed}, {@code canceled} (hung up while ringing), {@code voicemail}.
 */
public final class PhoneNormalizer implements Normalizer {

    /** A call from a number within this time after its conversation was resolved reopens it; later ones start a new one. */
    public static final Duration REOPEN_WINDOW = Duration.ofDays(1);

    static final DateTimeFormatter ASTERISK_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);
    /** Tech/extension-uniqueid of an Asterisk channel: "PJSIP/201-00000102" is extension 201. */
    private static final Pattern CHANNEL_EXTENSION = Pattern.compile("^[A-Za-z0-9]+/([^-@/]+)");

    @Override
    public Channel channel() {
        return Channel.PHONE;
    }

    /** What a PBX told about a call, before the number is normalized. */
    record Call(String vendor, String callId, String direction, String customer, String disposition, Instant startedAt,
                Instant answeredAt, Instant endedAt, String agent, String recordingUrl) {
    }

    @Override
    public List<DomainChange> normalize(InboundEnvelope envelope) throws MalformedEventException {
        Map<String, String> ids = envelope.externalIds();
        String format = ids.getOrDefault("format", envelope.contentType().startsWith("text/csv") ? "asterisk-cdr" : "generic");
        String region = ids.getOrDefault("region", "RU");
        ZoneId zone;
        try {
            zone = ZoneId.of(ids.getOrDefault("time_zone", "UTC"));
        } catch (DateTimeException e) {
            zone = ZoneId.of("UTC");
        }
        String payload = envelope.payloadText();
        Object parsed = switch (format) {
            case "generic" -> generic(payload);
            case "asterisk-cdr" -> asteriskCdr(payload, zone);
            case "asterisk-ami" -> asteriskAmi(payload, zone);
            case "zadarma" -> zadarma(form(payload), zone);
            case "mango" -> mango(form(payload));
            case "twilio" -> twilio(form(payload));
            default -> new Ignored("unknown phone format");
        };
        if (parsed instanceof Ignored ignored) {
            return List.of(ignored);
        }
        Call call = (Call) parsed;
        if (call.customer() == null) {
            return List.of(new Ignored("internal call"));
        }
        String e164 = PhoneNumbers.e164(call.customer(), region).orElse(null);
        if (e164 == null) {
            return List.of(new Ignored("customer number not recognised"));
        }
        String account = envelope.account();
        String callKey = "phone:" + account + ":" + call.vendor() + ":" + call.callId();
        Thread thread = new Thread("phone:" + account + ":" + e164, List.of(), REOPEN_WINDOW);
        return List.of(new CallRecord(callKey, new Identity("phone", e164), call.direction(), call.disposition(),
                call.startedAt(), call.answeredAt(), call.endedAt(), blankToNull(call.agent()), blankToNull(call.recordingUrl()), thread));
    }

    // ------------------------------------------------------------------ generic JSON

    private static Object generic(String payload) throws MalformedEventException {
        JsonNode n;
        try {
            n = ContractJson.mapper().readTree(payload);
        } catch (JacksonException e) {
            throw new MalformedEventException("generic phone event is not JSON");
        }
        if (n == null || !n.isObject() || n.path("callId").asString("").isBlank()) {
            throw new MalformedEventException("generic phone event has no callId");
        }
        String direction = n.path("direction").asString("");
        if (!direction.equals("inbound") && !direction.equals("outbound")) {
            throw new MalformedEventException("generic phone event: direction must be inbound or outbound");
        }
        Instant started = instant(n.path("startedAt"));
        if (started == null) {
            throw new MalformedEventException("generic phone event has no startedAt");
        }
        Instant answered = instant(n.path("answeredAt"));
        Instant ended = instant(n.path("endedAt"));
        String disposition = dispositionWord(n.path("disposition").asString(""));
        if (disposition == null) {
            String event = n.path("event").asString("");
            disposition = switch (event) {
                case "answer" -> "answered";
                case "end" -> answered != null ? "answered" : "no-answer";
                default -> answered != null ? "answered" : "ringing";
            };
        }
        String customer = direction.equals("inbound") ? n.path("from").asString(null) : n.path("to").asString(null);
        return new Call("generic", n.path("callId").asString(), direction, customer, disposition, started, answered, ended,
                n.path("agent").asString(null), n.path("recordingUrl").asString(null));
    }

    private static Instant instant(JsonNode t) throws MalformedEventException {
        if (t == null || t.isMissingNode() || t.isNull()) {
            return null;
        }
        if (t.isNumber()) {
            return Instant.ofEpochSecond(t.asLong());
        }
        String s = t.asString("");
        if (s.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException e2) {
                throw new MalformedEventException("not an ISO-8601 instant: " + t.asString("").length() + " characters");
            }
        }
    }

    /** Disposition words of the generic format; Asterisk's spellings are accepted too. */
    static String dispositionWord(String raw) {
        String d = raw.trim().toLowerCase(Locale.ROOT).replace(' ', '-').replace('_', '-');
        return switch (d) {
            case "" -> null;
            case "answered", "completed" -> "answered";
            case "no-answer", "noanswer", "missed" -> "no-answer";
            case "busy" -> "busy";
            case "failed", "congestion" -> "failed";
            case "canceled", "cancelled", "cancel" -> "canceled";
            case "voicemail" -> "voicemail";
            case "ringing", "in-progress" -> "ringing";
            default -> "failed";
        };
    }

    // ------------------------------------------------------------------ Asterisk

    /**
     * One Master.csv line in the cdr_csv column order (https://docs.asterisk.org/Configuration/Reporting/Call-Detail-Records-CDR/CDR-Specification/):
     * accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
     * duration, billsec, disposition, amaflags[, uniqueid[, userfield]].
     */
    private static Object asteriskCdr(String line, ZoneId zone) throws MalformedEventException {
        List<String> f;
        try {
            f = csvFields(line.strip());
        } catch (IllegalArgumentException e) {
            throw new MalformedEventException("Master.csv line: " + e.getMessage());
        }
        if (f.size() < 16 || f.size() > 18) {
            throw new MalformedEventException("Master.csv line: expected 16 to 18 columns, found " + f.size());
        }
        String uniqueId = f.size() >= 17 && !f.get(16).isBlank() ? f.get(16) : f.get(5) + "@" + f.get(9);
        return asterisk(uniqueId, f.get(1), f.get(2), f.get(5), f.get(6), f.get(7), f.get(9), f.get(10), f.get(11),
                f.get(14), zone);
    }

    /** An AMI {@code Cdr} event (https://docs.asterisk.org/Asterisk_20_Documentation/API_Documentation/AMI_Events/Cdr/). */
    private static Object asteriskAmi(String text, ZoneId zone) throws MalformedEventException {
        Map<String, String> f = new LinkedHashMap<>();
        for (String line : text.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                f.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        if (!"Cdr".equalsIgnoreCase(f.getOrDefault("Event", ""))) {
            return new Ignored("AMI event other than Cdr");
        }
        if (f.getOrDefault("UniqueID", "").isBlank()) {
            throw new MalformedEventException("AMI Cdr event without UniqueID");
        }
        return asterisk(f.get("UniqueID"), f.get("Source"), f.get("Destination"), f.get("Channel"), f.get("DestinationChannel"),
                f.get("LastApplication"), f.get("StartTime"), f.get("AnswerTime"), f.get("EndTime"), f.get("Disposition"), zone);
    }

    private static Object asterisk(String uniqueId, String src, String dst, String channel, String dstChannel, String lastApp,
                                   String start, String answer, String end, String disposition, ZoneId zone)
            throws MalformedEventException {
        Instant started = localTime(start, zone);
        if (started == null) {
            throw new MalformedEventException("Asterisk CDR without a start time");
        }
        String direction;
        String customer;
        String agent;
        if (isExternal(src)) {
            direction = "inbound";
            customer = src;
            agent = extension(dstChannel);
        } else if (isExternal(dst)) {
            direction = "outbound";
            customer = dst;
            agent = src != null && !src.isBlank() ? src : extension(channel);
        } else {
            return new Ignored("internal call");
        }
        String d = dispositionWord(disposition == null ? "" : disposition);
        if (d == null) {
            d = "failed";
        }
        // Asterisk counts a call that reached voicemail as ANSWERED: for us nobody answered it.
        if ("answered".equals(d) && "inbound".equals(direction) && lastApp != null && lastApp.equalsIgnoreCase("VoiceMail")) {
            d = "voicemail";
        }
        Instant answered = "answered".equals(d) ? localTime(answer, zone) : null;
        return new Call("asterisk", uniqueId, direction, customer, d, started, answered, localTime(end, zone),
                agent, null);
    }

    private static String extension(String channel) {
        if (channel == null) {
            return null;
        }
        Matcher m = CHANNEL_EXTENSION.matcher(channel.trim());
        return m.find() && !isExternal(m.group(1)) && !m.group(1).equalsIgnoreCase("trunk") ? m.group(1) : null;
    }

    static Instant localTime(String s, ZoneId zone) throws MalformedEventException {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return LocalDateTime.parse(s.trim(), ASTERISK_TIME).atZone(zone).toInstant();
        } catch (DateTimeParseException e) {
            throw new MalformedEventException("not a yyyy-MM-dd HH:mm:ss time");
        }
    }

    /** Extensions are short; a customer's number has at least 7 digits. */
    static boolean isExternal(String number) {
        return number != null && number.replaceAll("[^0-9]", "").length() >= 7;
    }

    static List<String> csvFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        int n = line.length();
        while (true) {
            current.setLength(0);
            if (i < n && line.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = line.charAt(i);
                    if (c == '"' && i + 1 < n && line.charAt(i + 1) == '"') {
                        current.append('"');
                        i += 2;
                    } else if (c == '"') {
                        i++;
                        closed = true;
                        break;
                    } else {
                        current.append(c);
                        i++;
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quote in field " + (fields.size() + 1));
                }
                if (i < n && line.charAt(i) != ',') {
                    throw new IllegalArgumentException("text after the closing quote of field " + (fields.size() + 1));
                }
            } else {
                while (i < n && line.charAt(i) != ',') {
                    current.append(line.charAt(i++));
                }
            }
            fields.add(current.toString());
            if (i >= n) {
                return fields;
            }
            i++;
        }
    }

    // ------------------------------------------------------------------ cloud PBXes

    /** Zadarma PBX notifications (https://zadarma.com/en/support/api/#api_webhook); times are the account's local time. */
    private static Object zadarma(Map<String, String> f, ZoneId zone) throws MalformedEventException {
        String event = f.getOrDefault("event", "");
        String callId = f.getOrDefault("pbx_call_id", "");
        if (callId.isBlank()) {
            throw new MalformedEventException("Zadarma notification without pbx_call_id");
        }
        boolean outbound = event.startsWith("NOTIFY_OUT_");
        String customer = outbound ? f.get("destination") : f.get("caller_id");
        Instant started = localTime(f.get("call_start"), zone);
        if (started == null) {
            throw new MalformedEventException("Zadarma notification without call_start");
        }
        String agent = f.get("internal");
        String disposition;
        Instant answered = null;
        Instant ended = null;
        switch (event) {
            case "NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_OUT_START" -> disposition = "ringing";
            case "NOTIFY_ANSWER" -> disposition = "answered";
            case "NOTIFY_END", "NOTIFY_OUT_END" -> {
                disposition = zadarmaDisposition(f.getOrDefault("disposition", ""));
                long duration = parseLong(f.get("duration"));
                if ("answered".equals(disposition)) {
                    // Zadarma reports the start and the talk time only: the answer is taken as the start.
                    answered = started;
                    ended = started.plusSeconds(duration);
                }
            }
            default -> {
                return new Ignored("Zadarma event " + (event.matches("[A-Z_]{1,40}") ? event : "unknown"));
            }
        }
        return new Call("zadarma", callId, outbound ? "outbound" : "inbound", customer, disposition, started, answered, ended,
                agent, null);
    }

    private static String zadarmaDisposition(String d) {
        return switch (d.trim().toLowerCase(Locale.ROOT)) {
            case "answered" -> "answered";
            case "busy" -> "busy";
            case "cancel" -> "canceled";
            case "no answer" -> "no-answer";
            default -> "failed";
        };
    }

    /**
     * Mango Office VPBX {@code events/summary} (https://www.mango-office.ru/upload/api/MangoOffice_VPBX_API_v1.9.pdf):
     * call_direction 1 inbound, 2 outbound; entry_result 1 answered; times in epoch seconds.
     */
    private static Object mango(Map<String, String> f) throws MalformedEventException {
        JsonNode j;
        try {
            j = ContractJson.mapper().readTree(f.getOrDefault("json", ""));
        } catch (JacksonException e) {
            throw new MalformedEventException("Mango Office event: json is not JSON");
        }
        if (j == null || !j.isObject() || j.path("entry_id").asString("").isBlank()) {
            throw new MalformedEventException("Mango Office event without entry_id");
        }
        if (!j.has("entry_result") || !j.has("create_time")) {
            return new Ignored("Mango Office event other than a call summary");
        }
        int direction = j.path("call_direction").asInt(0);
        if (direction != 1 && direction != 2) {
            return new Ignored("internal call");
        }
        boolean inbound = direction == 1;
        boolean answered = j.path("entry_result").asInt(0) == 1;
        String customer = inbound ? j.path("from").path("number").asString(null) : j.path("to").path("number").asString(null);
        String agent = inbound ? j.path("to").path("extension").asString(null) : j.path("from").path("extension").asString(null);
        return new Call("mango", j.path("entry_id").asString(), inbound ? "inbound" : "outbound", customer,
                answered ? "answered" : "no-answer", epoch(j.path("create_time")),
                answered ? epoch(j.path("talk_time")) : null, epoch(j.path("end_time")), agent, null);
    }

    private static Instant epoch(JsonNode n) {
        long s = n.asLong(0);
        return s > 0 ? Instant.ofEpochSecond(s) : null;
    }

    /** Twilio status callbacks (https://www.twilio.com/docs/voice/api/call-resource#statuscallback). */
    private static Object twilio(Map<String, String> f) throws MalformedEventException {
        String sid = f.getOrDefault("CallSid", "");
        if (sid.isBlank()) {
            throw new MalformedEventException("Twilio callback without CallSid");
        }
        boolean inbound = "inbound".equals(f.get("Direction"));
        Instant at;
        try {
            at = ZonedDateTime.parse(f.getOrDefault("Timestamp", ""), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new MalformedEventException("Twilio callback without a valid Timestamp");
        }
        String status = f.getOrDefault("CallStatus", "");
        String disposition = switch (status) {
            case "queued", "initiated", "ringing" -> "ringing";
            case "in-progress", "completed" -> "answered";
            case "busy" -> "busy";
            case "no-answer" -> "no-answer";
            case "canceled" -> "canceled";
            default -> "failed";
        };
        Instant started = at;
        Instant answered = null;
        Instant ended = null;
        if (status.equals("in-progress")) {
            answered = at;
        } else if (status.equals("completed")) {
            // The callback comes at the end with the talk time: the answer was that long before.
            ended = at;
            answered = at.minusSeconds(parseLong(f.get("CallDuration")));
            started = answered;
        } else if (!disposition.equals("ringing")) {
            ended = at;
        }
        return new Call("twilio", sid, inbound ? "inbound" : "outbound", inbound ? f.get("From") : f.get("To"), disposition,
                started, answered, ended, null, f.get("RecordingUrl"));
    }

    // ------------------------------------------------------------------ helpers

    static Map<String, String> form(String body) throws MalformedEventException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : body.trim().split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                out.putIfAbsent(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new MalformedEventException("not a valid form body");
            }
        }
        return out;
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Math.max(0, Long.parseLong(s.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
