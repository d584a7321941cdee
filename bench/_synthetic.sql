-- Synthetic county for the layer benchmarks; :scale multiplies segments, chiefs, cases, routes and visits.
-- Demo scale (1): 13 squads, 18 townships, 3 000 segments, 100 chiefs, 28 000 cases over two years,
-- 30 sanitation routes, ~1.1 M segment visits (patrol + sanitation).
SELECT setseed(0.42);

INSERT INTO admin_areas (code, name, level, geom, area_km2)
VALUES ('330723', '武义县', 'county', ST_Multi(ST_MakeEnvelope(119.45, 28.50, 119.97, 29.05, 4326)), 1577);

INSERT INTO admin_areas (code, name, level, parent_code, approximate, geom)
SELECT format('330723%s', lpad(i::text, 3, '0')), format('乡镇%s', i), 'township', '330723', i % 4 = 0,
       ST_Multi(ST_MakeEnvelope(119.45 + ((i - 1) % 6) * 0.52 / 6, 28.50 + ((i - 1) / 6) * 0.55 / 3,
                                119.45 + ((i - 1) % 6 + 1) * 0.52 / 6, 28.50 + ((i - 1) / 6 + 1) * 0.55 / 3, 4326))
FROM generate_series(1, 18) i;
UPDATE admin_areas SET area_km2 = ST_Area(geom::geography) / 1e6 WHERE level = 'township';

INSERT INTO squads (code, name, station, officers)
SELECT format('ZD%s', lpad(i::text, 2, '0')), format('第%s中队', i),
       ST_SetSRID(ST_MakePoint(119.45 + (i - 0.5) * 0.04, 28.775), 4326), 10
FROM generate_series(1, 13) i;

INSERT INTO jurisdictions (version, squad_code, name, geom)
SELECT 1, format('ZD%s', lpad(i::text, 2, '0')), format('第%s中队辖区', i),
       ST_Multi(ST_MakeEnvelope(119.45 + (i - 1) * 0.04, 28.50, 119.45 + i * 0.04, 29.05, 4326))
FROM generate_series(1, 13) i;
UPDATE jurisdictions SET area_km2 = ST_Area(geom::geography) / 1e6;

CREATE TEMP TABLE seg_pts AS
SELECT g,
       CASE WHEN u < 0.6 THEN 119.81 + 0.03 * sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2)
            ELSE 119.46 + 0.50 * u1 END AS x,
       CASE WHEN u < 0.6 THEN 28.89 + 0.03 * sqrt(-2 * ln(1 - u1)) * sin(2 * pi() * u2)
            ELSE 28.51 + 0.53 * u2 END AS y,
       2 * pi() * random() AS a
FROM (SELECT g, random() AS u, random() AS u1, random() AS u2 FROM generate_series(1, 3000 * :scale) g) r;

INSERT INTO street_segments (segment_key, name, road_class, township_code, squad_code, geom)
SELECT 'seg' || g, format('街路%s', g % 700),
       (ARRAY['主干路', '次干路', '支路', '巷', '乡村道路'])[1 + g % 5],
       format('330723%s', lpad((1 + least(5, floor((x - 119.45) / (0.52 / 6)))::int
                                  + 6 * least(2, floor((y - 28.50) / (0.55 / 3)))::int)::text, 3, '0')),
       format('ZD%s', lpad(least(13, greatest(1, floor((x - 119.45) / 0.04)::int + 1))::text, 2, '0')),
       ST_SetSRID(ST_MakeLine(ST_MakePoint(x, y), ST_MakePoint(x + 0.0015 * cos(a), y + 0.0012 * sin(a))), 4326)
FROM (SELECT g, least(119.96, greatest(119.46, x)) AS x, least(29.04, greatest(28.51, y)) AS y, a FROM seg_pts) p;
UPDATE street_segments SET length_m = ST_Length(geom::geography);

-- Street chiefs: ~100 × scale, each responsible for the segments of their squad in turn.
CREATE TEMP TABLE seg_rank AS
SELECT id, squad_code, row_number() OVER (PARTITION BY squad_code ORDER BY id) AS rn FROM street_segments;
INSERT INTO street_chiefs (code, name, phone, squad_code, role)
SELECT format('C%s%s', substr(q.code, 3), lpad(k::text, 3, '0')), format('街路长%s', k), '13800000000', q.code, '街长'
FROM squads q CROSS JOIN generate_series(1, ceil(100 * :scale / 13.0)::int) k;
INSERT INTO chief_segments (chief_id, segment_id)
SELECT c.id, s.id FROM seg_rank s
JOIN street_chiefs c ON c.code = format('C%s%s', substr(s.squad_code, 3),
                                        lpad((1 + s.rn % ceil(100 * :scale / 13.0)::int)::text, 3, '0'));

-- Cases: 28 000 × scale over two years; three in four on a segment (skewed: some streets are hot).
CREATE TEMP TABLE case_draw AS
SELECT g, random() AS u, random() AS v, random() AS w, random() AS t, random() AS p, random() AS k,
       1 + floor((3000 * :scale) * power(random(), 2))::int AS seg_rank
FROM generate_series(1, 28000 * :scale) g;
INSERT INTO cases (case_number, category, domain, procedure_type, source, status, address, geom, geocode_level,
                   geocode_score, township_code, squad_code, segment_id, received_at, dispatched_at, arrived_at,
                   closed_at, party_name, party_phone, party_id_number)
SELECT format('WY%s', lpad(d.g::text, 8, '0')),
       (ARRAY['占道经营', '违法建设', '工地扬尘', '建筑垃圾', '渣土运输', '户外广告', '人行道车辆违停',
              '秸秆焚烧', '市容环卫', '燃气', '水务', '生态环境'])[1 + floor(d.k * 12)::int],
       '市容环卫',
       CASE WHEN d.p < 0.58 THEN '简易程序' WHEN d.p < 0.95 THEN '一般程序' WHEN d.p < 0.99 THEN '投诉举报'
            ELSE '重大案件' END,
       '巡查发现', '已办结', '地址' || d.g, pt.geom, '门牌', 0.9,
       s.township_code,
       format('ZD%s', lpad(least(13, greatest(1, floor((ST_X(pt.geom) - 119.45) / 0.04)::int + 1))::text, 2, '0')),
       CASE WHEN d.u < 0.75 THEN s.id END,
       r.received, r.received + (5 + 55 * d.v) * interval '1 minute',
       r.received + (15 + 135 * d.v) * interval '1 minute',
       CASE WHEN d.w < 0.03 THEN NULL
            WHEN d.p < 0.58 THEN r.received + (3 + 40 * d.w) * interval '1 hour'
            ELSE r.received + (1 + 80 * d.w) * interval '1 day' END,
       '张三', '13812341234', '330723199001011234'
FROM case_draw d
JOIN street_segments s ON s.id = (SELECT min(id) - 1 FROM street_segments) + d.seg_rank
CROSS JOIN LATERAL (SELECT CASE WHEN d.u < 0.85
                                THEN ST_SetSRID(ST_MakePoint(ST_X(ST_LineInterpolatePoint(s.geom, d.v)) + (d.w - 0.5) * 0.0004,
                                                             ST_Y(ST_LineInterpolatePoint(s.geom, d.v)) + (d.t - 0.5) * 0.0004), 4326)
                                ELSE ST_SetSRID(ST_MakePoint(119.46 + 0.5 * d.w, 28.51 + 0.53 * d.t), 4326) END AS geom) pt
CROSS JOIN LATERAL (SELECT timestamptz '2024-11-27 00:00+08' + d.t * interval '730 days' AS received) r;

-- Patrol visits: each chief's segment visited on ~30 % of days, daytime, 1–16 minutes.
INSERT INTO segment_visits (segment_id, subject_kind, subject_id, entered_at, left_at, dwell_s, n_fixes)
SELECT cs.segment_id, 'patrol', c.code, t.entered, t.entered + t.dwell * interval '1 second', t.dwell, 5
FROM chief_segments cs JOIN street_chiefs c ON c.id = cs.chief_id
CROSS JOIN generate_series(0, 729) day
CROSS JOIN LATERAL (SELECT timestamptz '2024-11-27 08:00+08' + day * interval '1 day'
                           + random() * interval '10 hours' AS entered, 60 + 900 * random() AS dwell) t
WHERE random() < 0.3;

-- Sanitation: 30 × scale routes of 25 segments of one squad; each swept on ~85 % of days, early morning.
INSERT INTO sanitation_routes (route_code, name, vehicle, squad_code, geom)
SELECT format('R%s', lpad(r::text, 4, '0')), format('清扫路线%s', r), format('浙G%s', lpad(r::text, 5, '0')),
       format('ZD%s', lpad((1 + r % 13)::text, 2, '0')),
       ST_Multi(ST_MakeLine(ST_MakePoint(119.8, 28.89), ST_MakePoint(119.81, 28.89)))::geometry(MultiLineString, 4326)
FROM generate_series(1, 30 * :scale) r;
INSERT INTO route_segments (route_id, segment_id)
SELECT DISTINCT r.id, s.id FROM sanitation_routes r
JOIN seg_rank s ON s.squad_code = r.squad_code
 AND s.rn BETWEEN ((substr(r.route_code, 2)::int / 13) * 25) + 1 AND ((substr(r.route_code, 2)::int / 13) * 25) + 25;
INSERT INTO segment_visits (segment_id, subject_kind, subject_id, entered_at, left_at, dwell_s, n_fixes)
SELECT rs.segment_id, 'sanitation', r.vehicle, t.entered, t.entered + interval '90 seconds', 90, 4
FROM route_segments rs JOIN sanitation_routes r ON r.id = rs.route_id
CROSS JOIN generate_series(0, 729) day
CROSS JOIN LATERAL (SELECT timestamptz '2024-11-27 05:00+08' + day * interval '1 day'
                           + random() * interval '3 hours' AS entered) t
WHERE random() < 0.85;
ANALYZE;
