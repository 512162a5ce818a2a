package io.switchboard.adapter.support;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.MDC;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * Puts the conversation and the channel of an outbound command in the MDC while an adapter's sender
 * handles it (structured logs then carry {@code conversation} and {@code channel} on every line of the
 * send, retries and failure reasons included). inbox-api keys commands by conversation id, and the
 * channel is the topic's ({@code inbox.outbound.<channel>.v1}). Set on each adapter's listener factory.
 */
public class OutboundRecordMdc<K, V> implements RecordInterceptor<K, V> {

    private static final String PREFIX = "inbox.outbound.";

    @Override
    public ConsumerRecord<K, V> intercept(ConsumerRecord<K, V> record, Consumer<K, V> consumer) {
        if (record.key() != null) {
            MDC.put("conversation", String.valueOf(record.key()));
        }
        String channel = channelOf(record.topic());
        if (channel != null) {
            MDC.put("channel", channel);
        }
        return record;
    }

    @Override
    public void afterRecord(ConsumerRecord<K, V> record, Consumer<K, V> consumer) {
        MDC.remove("conversation");
        MDC.remove("channel");
    }

    static String channelOf(String topic) {
        if (topic == null || !topic.startsWith(PREFIX)) {
            return null;
        }
        int end = topic.indexOf('.', PREFIX.length());
        return end < 0 ? null : topic.substring(PREFIX.length(), end);
    }
}
