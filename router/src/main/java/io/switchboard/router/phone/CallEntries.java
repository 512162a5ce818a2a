package io.switchboard.router.phone;

import io.switchboard.router.normalize.DomainChange.CallRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The fields of a call entry ({@code Message.meta} of kind "call") and its visible text. Events of
 * one call arrive in any order and any number of times; merging is commutative enough for that:
 * the earliest start, any answer, the latest end, and "answered" beats a missed outcome, which
 * beats "ringing".
 */
public final class CallEntries {

    static final Set<String> MISSED = Set.of("no-answer", "busy", "failed", "canceled", "voicemail");

    public static Map<String, String> merge(Map<String, String> earlier, CallRecord c) {
        Map<String, String> m = new LinkedHashMap<>(earlier);
        m.putIfAbsent("direction", c.direction());
        m.putIfAbsent("customer", c.customer().value());
        m.put("disposition", stronger(earlier.get("disposition"), c.disposition() == null ? "ringing" : c.disposition()));
        min(m, "startedAt", c.startedAt());
        if ("answered".equals(m.get("disposition"))) {
            min(m, "answeredAt", c.answeredAt());
        }
        max(m, "endedAt", c.endedAt());
        if (m.get("startedAt") == null) {
            // A PBX that reports no start at all: the answer or the end is the best we know.
            Instant fallback = c.answeredAt() != null ? c.answeredAt() : c.endedAt();
            m.put("startedAt", String.valueOf(fallback));
        }
        if (c.agent() != null) {
            m.putIfAbsent("agent", c.agent());
        }
        if (c.recordingUrl() != null) {
            m.put("recordingUrl", c.recordingUrl());
        }
        m.remove("durationSeconds");
        if (m.containsKey("answeredAt") && m.containsKey("endedAt")) {
            long seconds = Duration.between(Instant.parse(m.get("answeredAt")), Instant.parse(m.get("endedAt"))).toSeconds();
            m.put("durationSeconds", String.valueOf(Math.max(0, seconds)));
        }
        return m;
    }

    /** "Missed call from +78125550123 (no answer), rang 201" and the like. */
    public static String text(Map<String, String> m) {
        boolean inbound = "inbound".equals(m.get("direction"));
        String who = m.get("customer");
        String d = m.get("disposition");
        StringBuilder t = new StringBuilder();
        if ("answered".equals(d)) {
            t.append(inbound ? "Inbound call from " : "Outbound call to ").append(who);
            if (m.get("agent") != null) {
                t.append(inbound ? ", answered by " : ", by ").append(m.get("agent"));
            }
            if (m.get("durationSeconds") != null) {
                long s = Long.parseLong(m.get("durationSeconds"));
                t.append(", ").append(s / 60).append(" min ").append(s % 60).append(" s");
            }
        } else if ("ringing".equals(d)) {
            t.append(inbound ? "Incoming call from " : "Calling ").append(who).append(", ringing");
        } else {
            t.append(inbound ? "Missed call from " : "Outbound call to ").append(who)
                    .append(inbound ? " (" : " not answered (").append(d.replace('-', ' ')).append(")");
            if (inbound) {
                if (m.get("agent") != null) {
                    t.append(", rang ").append(m.get("agent"));
                }
                t.append(": call back");
            }
        }
        if (m.get("recordingUrl") != null) {
            t.append("\nRecording: ").append(m.get("recordingUrl"));
        }
        return t.toString();
    }

    private static String stronger(String a, String b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(String d) {
        if (d == null) {
            return -1;
        }
        if (d.equals("answered")) {
            return 2;
        }
        return MISSED.contains(d) ? 1 : 0;
    }

    private static void min(Map<String, String> m, String field, Instant t) {
        if (t != null && (m.get(field) == null || t.isBefore(Instant.parse(m.get(field))))) {
            m.put(field, t.toString());
        }
    }

    private static void max(Map<String, String> m, String field, Instant t) {
        if (t != null && (m.get(field) == null || t.isAfter(Instant.parse(m.get(field))))) {
            m.put(field, t.toString());
        }
    }

    private CallEntries() {
    }
}
