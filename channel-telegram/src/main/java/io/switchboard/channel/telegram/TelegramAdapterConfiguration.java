package io.switchboard.channel.telegram;

import io.switchboard.adapter.support.AdapterListeners;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;
import org.springframework.web.client.RestClient;

import java.util.Map;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TelegramProperties.class)
@PropertySource("classpath:switchboard-telegram.properties")
class TelegramAdapterConfiguration {

    @Bean
    TelegramClient telegramClient() {
        return new TelegramClient(RestClient.builder());
    }

    /** The adapter runs without the router too, so it declares the topics it writes and reads (as everyone does: SharedTopics). */
    @Bean
    KafkaAdmin.NewTopics telegramTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.TELEGRAM), Topics.outbound(Channel.TELEGRAM), Topics.DELIVERY_REPORTS);
    }

    /** One command at a time, offset committed after each report is durable, so a crash resends at most one reply. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> telegramListenerFactory(KafkaProperties kafka) {
        return AdapterListeners.outboundCommands(kafka);
    }

    /**
     * The file fetcher's consumer: one update at a time, its offset committed only after its files'
     * content events are durable, so a crash fetches them again. A failure worth another try (429,
     * 5xx, network, broker) retries the update with back-off from 1 s up to 1 min for about 15 min;
     * after that the files stay metadata, with a WARN and {@code switchboard.telegram.files{outcome=failed}},
     * rather than holding up the files of every later update of the partition.
     */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> telegramFileListenerFactory(KafkaProperties kafka,
                                                                                        ObjectProvider<MeterRegistry> meters) {
        // a new group starts at the beginning: an update stored before the fetcher first ran still gets its files
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory =
                AdapterListeners.recordFactory(kafka, Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20));
        ExponentialBackOff backOff = new ExponentialBackOff(1000, 2.0);
        backOff.setMaxInterval(60_000);
        backOff.setMaxElapsedTime(15 * 60_000);
        DefaultErrorHandler errors = new DefaultErrorHandler((record, e) -> {
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            LoggerFactory.getLogger(TelegramFileFetcher.class).warn(
                    "files of the Telegram update at {}-{}@{} not fetched after retries ({}); they stay metadata",
                    record.topic(), record.partition(), record.offset(), cause.getMessage());
            meters.ifAvailable(m -> m.counter("switchboard.telegram.files", "outcome", "failed").increment());
        }, backOff);
        factory.setCommonErrorHandler(errors);
        // Offsets committed once per poll, not per update: this listener reads every Telegram update and
        // most carry no file, so a commit each cost more than the work (the pipeline benchmark measured
        // the broker's group coordinator among the busiest threads). A crash repeats at most the poll's
        // updates, and a file fetched twice is stored once (an upsert by its ref).
        factory.getContainerProperties().setAckMode(org.springframework.kafka.listener.ContainerProperties.AckMode.BATCH);
        return factory;
    }
}
