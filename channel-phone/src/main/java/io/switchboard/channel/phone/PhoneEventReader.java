package io.switchboard.channel.phone;

import io.switchboard.contract.ContractJson;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Splits one webhook request into call events, one envelope each, and rejects what cannot be a
 * call event (with its line or item number) while keeping the good ones. Only what the adapter
 * needs is read here (a call id, the customer's number for the Kafka key); the meaning of an
 * event is the router's PhoneNormalizer's business.
 */
final class PhoneEventReader {

    static final String GENERIC = "generic";
    static final String ASTERISK_CDR = "asterisk-cdr";
    static final String ASTERISK_AMI = "asterisk-ami";
    static final String ZADARMA = "zadarma";
    static final String MANGO = "mango";
    static final String TWILIO = "twilio";
    static final Set<String> FORMATS = Set.of(GENERIC, ASTERISK_CDR, ASTERISK_AMI, ZADARMA, MANGO, TWILIO);

    /** Asterisk cdr_csv: 16 columns, +uniqueid with loguniqueid=yes, +userfield with loguserfield=yes. */
    static final Set<Integer> CDR_COLUMNS = Set.of(16, 17, 18);
    static final DateTimeFormatter ASTERISK_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    /**
     * One call event.
     *
     * @param callId   the PBX's id of the call (partial events of one call share it)
     * @param customer the customer's number as the PBX wrote it, or null for an internal call
     * @param unit     "line" or "item": what {@code number} counts
     */
    record Event(String callId, String customer, String contentType, String payload, String unit, int number) {
    }

    record Rejected(String unit, int number, String reason) {
    }

    record Batch(List<Event> events, List<Rejected> rejected) {
    }

    /** The whole request is unusable (not JSON, not a form, nothing in it). */
    static final class BadRequest extends Exception {
        BadRequest(String reason) {
            super(reason);
        }
    }

    static Batch read(String format, String body) throws BadRequest {
        return switch (format) {
            case GENERIC -> generic(body);
            case ASTERISK_CDR -> cdr(body);
            case ASTERISK_AMI -> ami(body);
            case ZADARMA -> zadarma(body);
            case MANGO -> mango(body);
            case TWILIO -> twilio(body);
            default -> throw new BadRequest("unknown format");
        };
    }

    // ------------------------------------------------------------------ generic JSON

    private static Batch generic(String body) throws BadRequest {
        JsonNode root;
        try {
            root = ContractJson.mapper().readTree(body);
        } catch (JacksonException e) {
            throw new BadRequest("body is not JSON");
        }
        if (root == null || !(root.isObject() || root.isArray())) {
            throw new BadRequest("expected a call event object or an array of them");
        }
        List<Event> events = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        List<JsonNode> items = new ArrayList<>();
        if (root.isArray()) {
            root.forEach(items::add);
        } else {
            items.add(root);
        }
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            String problem = genericProblem(item);
            if (problem != null) {
                rejected.add(new Rejected("item", i + 1, problem));
                continue;
            }
            String direction = item.path("direction").asString();
            String customer = "inbound".equals(direction) ? item.path("from").asString() : item.path("to").asString();
            String payload = root.isArray() ? ContractJson.toJson(item) : body;
            events.add(new Event(item.path("callId").asString(), customer, "application/json", payload, "item", i + 1));
        }
        return new Batch(events, rejected);
    }

    private static String genericProblem(JsonNode item) {
        if (!item.isObject()) {
            return "not an object";
        }
        if (item.path("callId").asString("").isBlank()) {
            return "callId is missing";
        }
        String direction = item.path("direction").asString("");
        if (!direction.equals("inbound") && !direction.equals("outbound")) {
            return "direction must be inbound or outbound";
        }
        String customerField = direction.equals("inbound") ? "from" : "to";
        if (item.path(customerField).asString("").isBlank()) {
            return customerField + " (the customer's number) is missing";
        }
        for (String field : new String[]{"startedAt", "answeredAt", "endedAt"}) {
            JsonNode t = item.path(field);
            if (t.isMissingNode() || t.isNull()) {
                if (field.equals("startedAt")) {
                    return "startedAt is missing";
                }
                continue;
            }
            if (!t.canConvertToLong() && !isInstant(t.asString(""))) {
                return field + " is not an ISO-8601 instant or epoch seconds";
            }
        }
        return null;
    }

    static boolean isInstant(String s) {
        try {
            OffsetDateTime.parse(s);
            return true;
        } catch (DateTimeParseException e) {
            try {
                Instant.parse(s);
                return true;
            } catch (DateTimeParseException e2) {
                return false;
            }
        }
    }

    // ------------------------------------------------------------------ Asterisk Master.csv

    private static Batch cdr(String body) {
        List<Event> events = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        String[] lines = body.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripCr(lines[i]);
            if (line.isBlank()) {
                continue;
            }
            List<String> f;
            try {
                f = csvFields(line);
            } catch (IllegalArgumentException e) {
                rejected.add(new Rejected("line", i + 1, e.getMessage()));
                continue;
            }
            if (!CDR_COLUMNS.contains(f.size())) {
                rejected.add(new Rejected("line", i + 1, "expected 16 to 18 Master.csv columns, found " + f.size()));
                continue;
            }
            if (!isAsteriskTime(f.get(9))) {
                rejected.add(new Rejected("line", i + 1, "start (column 10) is not yyyy-MM-dd HH:mm:ss"));
                continue;
            }
            String uniqueId = f.size() >= 17 && !f.get(16).isBlank() ? f.get(16) : f.get(5) + "@" + f.get(9);
            events.add(new Event(uniqueId, customerOf(f.get(1), f.get(2)), "text/csv", line, "line", i + 1));
        }
        return new Batch(events, rejected);
    }

    /** One Master.csv line: comma-separated, fields optionally in double quotes, "" is a quote inside quotes. */
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
                    if (c == '"') {
                        if (i + 1 < n && line.charAt(i + 1) == '"') {
                            current.append('"');
                            i += 2;
                        } else {
                            i++;
                            closed = true;
                            break;
                        }
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
                    char c = line.charAt(i);
                    if (c == '"') {
                        throw new IllegalArgumentException("stray quote in field " + (fields.size() + 1));
                    }
                    current.append(c);
                    i++;
                }
            }
            fields.add(current.toString());
            if (i >= n) {
                return fields;
            }
            i++; // the comma
        }
    }

    static boolean isAsteriskTime(String s) {
        try {
            LocalDateTime.parse(s.trim(), ASTERISK_TIME);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ Asterisk AMI Cdr events

    private static Batch ami(String body) throws BadRequest {
        List<Event> events = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        String[] lines = body.split("\n", -1);
        int start = -1;
        StringBuilder block = new StringBuilder();
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 0; i <= lines.length; i++) {
            String line = i < lines.length ? stripCr(lines[i]) : "";
            if (!line.isBlank()) {
                if (start < 0) {
                    start = i + 1;
                }
                block.append(line).append("\r\n");
                int colon = line.indexOf(':');
                if (colon > 0) {
                    fields.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                }
                continue;
            }
            if (start < 0) {
                continue;
            }
            String problem = amiProblem(fields);
            if (problem != null) {
                rejected.add(new Rejected("line", start, problem));
            } else {
                events.add(new Event(fields.get("UniqueID"), customerOf(fields.get("Source"), fields.get("Destination")),
                        "text/plain", block.toString(), "line", start));
            }
            start = -1;
            block.setLength(0);
            fields.clear();
        }
        if (events.isEmpty() && rejected.isEmpty()) {
            throw new BadRequest("no AMI event in the body");
        }
        return new Batch(events, rejected);
    }

    private static String amiProblem(Map<String, String> f) {
        if (!"Cdr".equalsIgnoreCase(f.getOrDefault("Event", ""))) {
            return "not an AMI Cdr event";
        }
        if (f.getOrDefault("UniqueID", "").isBlank()) {
            return "UniqueID is missing";
        }
        if (!isAsteriskTime(f.getOrDefault("StartTime", ""))) {
            return "StartTime is not yyyy-MM-dd HH:mm:ss";
        }
        return null;
    }

    // ------------------------------------------------------------------ cloud PBX forms

    private static Batch zadarma(String body) throws BadRequest {
        Map<String, String> f = form(body);
        String event = f.getOrDefault("event", "");
        if (event.isBlank()) {
            throw new BadRequest("not a Zadarma notification: no event");
        }
        if (f.getOrDefault("pbx_call_id", "").isBlank()) {
            throw new BadRequest("not a Zadarma notification: no pbx_call_id");
        }
        String customer = event.startsWith("NOTIFY_OUT_") ? f.get("destination") : f.get("caller_id");
        return single(new Event(f.get("pbx_call_id"), customer, "application/x-www-form-urlencoded", body, "item", 1));
    }

    private static Batch mango(String body) throws BadRequest {
        Map<String, String> f = form(body);
        JsonNode json;
        try {
            json = ContractJson.mapper().readTree(f.getOrDefault("json", ""));
        } catch (JacksonException e) {
            throw new BadRequest("not a Mango Office event: the json field is not JSON");
        }
        if (json == null || !json.isObject() || json.path("entry_id").asString("").isBlank()) {
            throw new BadRequest("not a Mango Office event: no entry_id");
        }
        int direction = json.path("call_direction").asInt(-1);
        String customer = direction == 2 ? json.path("to").path("number").asString(null) : json.path("from").path("number").asString(null);
        return single(new Event(json.path("entry_id").asString(), customer, "application/x-www-form-urlencoded", body, "item", 1));
    }

    private static Batch twilio(String body) throws BadRequest {
        Map<String, String> f = form(body);
        if (f.getOrDefault("CallSid", "").isBlank() || f.getOrDefault("CallStatus", "").isBlank()) {
            throw new BadRequest("not a Twilio status callback: no CallSid or CallStatus");
        }
        String customer = "inbound".equals(f.get("Direction")) ? f.get("From") : f.get("To");
        return single(new Event(f.get("CallSid"), customer, "application/x-www-form-urlencoded", body, "item", 1));
    }

    private static Batch single(Event e) {
        return new Batch(List.of(e), List.of());
    }

    /** application/x-www-form-urlencoded, UTF-8, first value of each name. */
    static Map<String, String> form(String body) throws BadRequest {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : body.trim().split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.putIfAbsent(name, value);
            } catch (IllegalArgumentException e) {
                throw new BadRequest("body is not a valid form");
            }
        }
        if (out.isEmpty()) {
            throw new BadRequest("empty form");
        }
        return out;
    }

    // ------------------------------------------------------------------ numbers

    /** The external party of a call: the source if it is a full number, else the destination, else none. */
    static String customerOf(String source, String destination) {
        if (isExternal(source)) {
            return source;
        }
        return isExternal(destination) ? destination : null;
    }

    /** Extensions are short; a customer's number has at least 7 digits. */
    static boolean isExternal(String number) {
        return number != null && number.replaceAll("[^0-9]", "").length() >= 7;
    }

    /**
     * A best-effort canonical form of a number for the Kafka key only (the router does the real
     * E.164 with libphonenumber): digits, with the national trunk prefix 8 of RU/KZ turned into 7.
     */
    static String affinityNumber(String raw, String region) {
        if (raw == null) {
            return "internal";
        }
        String trimmed = raw.trim();
        String digits = trimmed.replaceAll("[^0-9]", "");
        if (trimmed.startsWith("+") || trimmed.startsWith("00")) {
            return digits.startsWith("00") ? digits.substring(2) : digits;
        }
        if (region.equals("RU") || region.equals("KZ")) {
            if (digits.length() == 11 && digits.startsWith("8")) {
                return "7" + digits.substring(1);
            }
            if (digits.length() == 10) {
                return "7" + digits;
            }
        }
        return digits;
    }

    private static String stripCr(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }

    private PhoneEventReader() {
    }
}
