package io.switchboard.router.tracing;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.router.RouterProperties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.support.micrometer.KafkaListenerObservation;
import org.springframework.kafka.support.micrometer.KafkaRecordReceiverContext;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Trace context through the router's batch listener. Spring Kafka opens a listener observation
 * (and so continues the {@code traceparent} of the record) only for record listeners; the router
 * consumes batches so that offsets are committed after the store, so it opens one observation per
 * record itself, a child of the producer's span, and remembers it for the conversation events that
 * record caused: they are published after the batch, inside the same trace.
 *
 * <p>While a record is processed the MDC holds {@code traceId} and {@code spanId} (Boot's tracing
 * correlation), {@code channel} and {@code affinityKey} (the record key). Structured JSON logs
 * ({@code LOGGING_STRUCTURED_FORMAT_CONSOLE=ecs}) carry them on every line.
 */
@Component
public class RecordTracing {

    private static final Logger log = LoggerFactory.getLogger(RecordTracing.class);
    static final String LISTENER_ID = "router-inbound";

    private final ObservationRegistry registry;
    private final String groupId;
    private final String clientId;
    /** Events of the batch in progress, each with the observation of the record that caused it (one consumer thread). */
    private final ThreadLocal<Map<ConversationEvent, Observation>> causes = ThreadLocal.withInitial(IdentityHashMap::new);

    public RecordTracing(ObjectProvider<ObservationRegistry> registry, RouterProperties props) {
        this.registry = registry.getIfAvailable(() -> ObservationRegistry.NOOP);
        this.groupId = props.groupId();
        this.clientId = props.instanceId();
    }

    /**
     * Kafka's listener convention under a name of our own: the batch listener's timer already owns
     * {@code spring.kafka.listener} with other tag keys, and Prometheus refuses a second meter of one
     * name with different keys (the per-record timers were silently dropped).
     */
    static final KafkaListenerObservation.DefaultKafkaListenerObservationConvention RECORD_CONVENTION =
            new KafkaListenerObservation.DefaultKafkaListenerObservationConvention() {
                @Override
                public String getName() {
                    return "switchboard.router.record";
                }
            };

    /**
     * Runs the processing of one record inside an observation that continues the record's trace.
     * Events appended to {@code events} meanwhile are attributed to this record.
     */
    public <T> T process(ConsumerRecord<String, byte[]> record, List<ConversationEvent> events, Supplier<T> work) {
        Observation observation = KafkaListenerObservation.LISTENER_OBSERVATION.observation(null, RECORD_CONVENTION,
                () -> new KafkaRecordReceiverContext(record, LISTENER_ID, clientId, groupId, () -> null), registry);
        int before = events.size();
        observation.start();
        try (Observation.Scope scope = observation.openScope()) {
            String channel = channelOf(record.topic());
            if (channel != null) {
                MDC.put("channel", channel);
            }
            if (record.key() != null) {
                MDC.put("affinityKey", record.key());
            }
            log.debug("processing {}-{}@{}", record.topic(), record.partition(), record.offset());
            T result = work.get();
            Map<ConversationEvent, Observation> map = causes.get();
            for (int i = before; i < events.size(); i++) {
                map.put(events.get(i), observation);
            }
            return result;
        } catch (RuntimeException | Error e) {
            observation.error(e);
            throw e;
        } finally {
            MDC.remove("channel");
            MDC.remove("affinityKey");
            observation.stop();
        }
    }

    /**
     * Publishes a batch's events, each inside the trace of the record that caused it (the Kafka
     * template's observation then writes that trace's {@code traceparent} header), with the
     * conversation and channel in the MDC.
     */
    public List<CompletableFuture<?>> publish(List<ConversationEvent> events,
                                              Function<List<ConversationEvent>, List<CompletableFuture<?>>> publisher) {
        Map<ConversationEvent, Observation> map = causes.get();
        try {
            if (map.isEmpty()) {
                return publisher.apply(events);
            }
            List<CompletableFuture<?>> sends = new ArrayList<>(events.size());
            for (ConversationEvent event : events) {
                Observation cause = map.get(event);
                if (cause == null) {
                    sends.addAll(publisher.apply(List.of(event)));
                    continue;
                }
                try (Observation.Scope scope = cause.openScope()) {
                    MDC.put("conversation", event.conversationId());
                    if (event.channel() != null) {
                        MDC.put("channel", event.channel().wire());
                    }
                    sends.addAll(publisher.apply(List.of(event)));
                } finally {
                    MDC.remove("conversation");
                    MDC.remove("channel");
                }
            }
            return sends;
        } finally {
            map.clear();
        }
    }

    /** {@code inbox.inbound.<channel>.v1} gives {@code <channel>}. */
    static String channelOf(String topic) {
        String prefix = "inbox.inbound.";
        if (topic == null || !topic.startsWith(prefix) || !topic.endsWith(".v1")) {
            return null;
        }
        return topic.substring(prefix.length(), topic.length() - ".v1".length());
    }
}
