package io.switchboard.adapter.support;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.Channel;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.support.CompositeProducerListener;
import org.springframework.kafka.support.LoggingProducerListener;
import org.springframework.kafka.support.ProducerListener;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ingest counters of an adapter, kept from the Kafka producer's own outcome of every record sent to
 * an inbound topic ({@code inbox.inbound.<channel>.v1}), so no adapter has to remember to count:
 *
 * <ul>
 *   <li>{@code switchboard.ingest.published} (Prometheus {@code switchboard_ingest_published_total}),
 *       tags {@code channel}, {@code account}: raw events the broker acknowledged;</li>
 *   <li>{@code switchboard.ingest.failures} ({@code switchboard_ingest_failures_total}), tags
 *       {@code channel}, {@code account}, {@code reason} (the exception's simple class name): sends that
 *       failed, i.e. a webhook answered with an error or a poller that will fetch again.</li>
 * </ul>
 * The account comes from the envelope's {@code account} field, read with a streaming parser that stops
 * there (it precedes the payload), so a large record costs no more than a small one.
 */
public class IngestMetrics {

    static final String PUBLISHED = "switchboard.ingest.published";
    static final String FAILURES = "switchboard.ingest.failures";
    private static final String PREFIX = "inbox.inbound.";
    private static final JsonFactory JSON = new JsonFactory();

    private final ObjectProvider<MeterRegistry> registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public IngestMetrics(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    /**
     * The listener to give a {@code KafkaTemplate}: Spring Kafka's logging of failed sends, plus these
     * counters. Boot's template gets it from {@code AdapterSupportAutoConfiguration}; a template an
     * adapter builds itself (the web form's) sets it.
     */
    public <K, V> ProducerListener<K, V> listener() {
        ProducerListener<K, V> counting = new ProducerListener<>() {
            @Override
            public void onSuccess(ProducerRecord<K, V> record, RecordMetadata metadata) {
                published(record);
            }

            @Override
            public void onError(ProducerRecord<K, V> record, RecordMetadata metadata, Exception exception) {
                failed(record, exception);
            }
        };
        return new CompositeProducerListener<>(new LoggingProducerListener<>(), counting);
    }

    void published(ProducerRecord<?, ?> record) {
        String channel = channelOf(record.topic());
        if (channel != null) {
            count(PUBLISHED, channel, accountOf(record.value()), null);
        }
    }

    void failed(ProducerRecord<?, ?> record, Exception exception) {
        String channel = channelOf(record.topic());
        if (channel != null) {
            count(FAILURES, channel, accountOf(record.value()), exception == null ? "unknown" : exception.getClass().getSimpleName());
        }
    }

    /**
     * Looked up once: this runs on the producer's network thread for every record, where a bean factory
     * search each time showed in the pipeline benchmark's profile (and delayed the acks behind it).
     */
    private volatile MeterRegistry meters;

    private MeterRegistry meters() {
        MeterRegistry m = meters;
        if (m == null) {
            m = registry.getIfAvailable();
            meters = m;
        }
        return m;
    }

    private void count(String name, String channel, String account, String reason) {
        MeterRegistry meters = meters();
        if (meters == null) {
            return;
        }
        String key = name + '|' + channel + '|' + account + '|' + reason;
        counters.computeIfAbsent(key, k -> {
            Counter.Builder b = Counter.builder(name).tag("channel", channel).tag("account", account);
            if (reason != null) {
                b.tag("reason", reason).description("Raw events an adapter failed to publish to its inbound topic");
            } else {
                b.description("Raw events an adapter published to its inbound topic (acknowledged by the broker)");
            }
            return b.register(meters);
        }).increment();
    }

    /** {@code inbox.inbound.<channel>.v1} gives a known channel's wire name; any other topic null. */
    static String channelOf(String topic) {
        if (topic == null || !topic.startsWith(PREFIX)) {
            return null;
        }
        int end = topic.indexOf('.', PREFIX.length());
        String wire = end < 0 ? null : topic.substring(PREFIX.length(), end);
        for (Channel c : Channel.values()) {
            if (c.wire().equals(wire)) {
                return wire;
            }
        }
        return null;
    }

    /** The top-level {@code account} of an envelope's JSON, or {@code unknown}. */
    static String accountOf(Object value) {
        if (!(value instanceof byte[] bytes)) {
            return "unknown";
        }
        try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return "unknown";
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.PROPERTY_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if ("account".equals(name)) {
                    return v == JsonToken.VALUE_STRING ? p.getString() : "unknown";
                }
                p.skipChildren();
            }
        } catch (RuntimeException notAnEnvelope) {
            // counted as unknown: the counter never fails a send
        }
        return "unknown";
    }
}
