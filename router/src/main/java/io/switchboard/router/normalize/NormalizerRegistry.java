package io.switchboard.router.normalize;

import io.switchboard.contract.Channel;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/** The normalizers found on the class path, one per channel. */
public final class NormalizerRegistry {

    private final Map<Channel, Normalizer> byChannel = new EnumMap<>(Channel.class);

    public NormalizerRegistry(List<Normalizer> normalizers) {
        for (Normalizer n : normalizers) {
            Normalizer previous = byChannel.put(n.channel(), n);
            if (previous != null) {
                throw new IllegalStateException("two normalizers for " + n.channel() + ": "
                        + previous.getClass().getName() + " and " + n.getClass().getName());
            }
        }
    }

    public static NormalizerRegistry fromServiceLoader() {
        return new NormalizerRegistry(ServiceLoader.load(Normalizer.class).stream().map(ServiceLoader.Provider::get).toList());
    }

    public Optional<Normalizer> forChannel(Channel channel) {
        return Optional.ofNullable(byChannel.get(channel));
    }

    public java.util.Set<Channel> channels() {
        return byChannel.keySet();
    }
}
