package io.switchboard.router;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Router settings ({@code switchboard.router.*}).
 *
 * @param groupId     Kafka consumer group shared by all router instances (they split the partitions)
 * @param instanceId  this instance's static group membership id: unique per running instance and stable
 *                    across its restarts, so a restarted router gets its partitions back at once instead
 *                    of after the dead member's session timeout
 * @param concurrency consumer threads per listener in this instance
 * @param reopenWindow per channel (telegram, vk, facebook, phone, ...): a message this long after a conversation
 *                    was resolved starts a new conversation instead of reopening it; unset = the channel's default
 *                    (7 days for chats; email always reopens, since replies thread by Message-ID)
 */
@Validated
@ConfigurationProperties("switchboard.router")
public record RouterProperties(
        @NotBlank String groupId,
        @NotBlank String instanceId,
        @Min(1) int concurrency,
        java.util.Map<String, java.time.Duration> reopenWindow) {

    public RouterProperties {
        reopenWindow = reopenWindow == null ? java.util.Map.of() : java.util.Map.copyOf(reopenWindow);
    }
}
