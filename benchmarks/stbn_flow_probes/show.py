import json
for l in open('/tmp/stbn20/probes.jsonl'):
    r=json.loads(l); n=r['noisy']; c=r['clean']
    print(f"{r['name']:24s} cpu {r['train_cpu_s']:6.1f} noisy {n['epe']:.3f} clean {c['epe']:.3f} gain {n['gain']:.2f} m1-2 {n['mag1-2']['epe']:.2f} m2-3 {n['mag2-3']['epe']:.2f} m3-4 {n['mag3-4']['epe']:.2f} b4 {n['border4']['epe']:.2f} edge {n['motion_edges']['epe']:.2f} lv {[round(x,2) for x in n['levels']]} L {r['loss_first']:.3f}->{r['loss_last']:.3f}")
