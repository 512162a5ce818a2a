package io.switchboard.contract;

import java.util.ArrayList;
import java.util.List;

/**
 * The topic catalogue: {@code inbox.<flow>.<channel-or-entity>.v<major>}. A major version changes
 * only with a breaking change to the record on it (ADR 0002); additive fields stay in v1.
 */
public final class Topics {

    /** Raw channel events from the adapters, one topic per channel, keyed by conversation affinity. */
    public static String inbound(Channel channel) {
        return "inbox.inbound." + channel.wire() + ".v1";
    }

    /** Agents' replies waiting to be sent by the channel's adapter, keyed by conversation. */
    public static String outbound(Channel channel) {
        return "inbox.outbound." + channel.wire() + ".v1";
    }

    /** Delivery reports from every adapter back to the router. */
    public static final String DELIVERY_REPORTS = "inbox.delivery.reports.v1";

    /** Domain events of the inbox (conversation opened, message added, status changed, delivery updated). */
    public static final String CONVERSATION_EVENTS = "inbox.conversation.events.v1";

    /** SLA warnings and breaches. */
    public static final String SLA_EVENTS = "inbox.sla.events.v1";

    /** Operators' requests to re-normalize raw events (see {@link ReplayRequest}). */
    public static final String CONTROL_REPLAY = "inbox.control.replay.v1";

    /** Records the router could not decode or normalize, with the reason in headers. */
    public static final String ROUTER_DEAD_LETTER = "inbox.deadletter.router.v1";

    /** Header names used on dead-letter records. */
    public static final String HEADER_DLT_REASON = "x-dlt-reason";
    public static final String HEADER_DLT_ORIGINAL_TOPIC = "x-dlt-original-topic";
    public static final String HEADER_DLT_ORIGINAL_PARTITION = "x-dlt-original-partition";
    public static final String HEADER_DLT_ORIGINAL_OFFSET = "x-dlt-original-offset";

    public static List<String> allInbound() {
        List<String> topics = new ArrayList<>();
        for (Channel c : Channel.values()) {
            topics.add(inbound(c));
        }
        return topics;
    }

    private Topics() {
    }
}
